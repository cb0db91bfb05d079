// The plan page: approve / reject / edit proposals inline, change a row's status, propose from text.
(function () {
  const message = document.getElementById("plan-message");

  async function call(method, url, body) {
    const response = await fetch(url, {
      method, headers: {"Content-Type": "application/json"}, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
    return data;
  }

  // Runs the calls with the controls disabled (a double click must not approve twice); reloads on
  // success, shows the error and gives the controls back otherwise.
  async function act(controls, steps) {
    controls.forEach((c) => { c.disabled = true; });
    try {
      await steps();
      location.reload();
    } catch (e) {
      message.textContent = e.message;
      controls.forEach((c) => { c.disabled = false; });
    }
  }

  function lines(text) {
    return text.split("\n").map((s) => s.trim()).filter(Boolean);
  }

  function fields(box) {
    const get = (name) => box.querySelector(`[name="${name}"]`).value;
    return {problem: get("problem"), priority: get("priority") || null, deadline_text: get("deadline_text") || null,
            activities: lines(get("activities")), responsible: lines(get("responsible"))};
  }

  document.querySelectorAll(".proposal").forEach((box) => {
    const url = `/api/plan/rows/${encodeURIComponent(box.dataset.id)}`;
    const buttons = Array.from(box.querySelectorAll("button"));
    box.querySelector(".save").addEventListener("click", () => act(buttons, () => call("PATCH", url, fields(box))));
    box.querySelector(".approve").addEventListener("click", () => act(buttons, async () => {
      await call("PATCH", url, fields(box));  // what the secretary sees is what gets approved
      await call("POST", `${url}/approve`, {});
    }));
    box.querySelector(".reject").addEventListener("click", () => act(buttons, () => {
      const reason = box.querySelector('[name="reason"]').value.trim() || null;
      return call("POST", `${url}/reject`, {reason});
    }));
  });

  document.querySelectorAll("tr[data-id] select.status").forEach((select) => {
    select.addEventListener("change", () => {
      const id = select.closest("tr").dataset.id;
      act([select], () => call("POST", `/api/plan/rows/${encodeURIComponent(id)}/status`, {status: select.value}));
    });
  });

  const form = document.getElementById("propose");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = document.getElementById("concerns").value;
    if (!text.trim()) return;
    act(Array.from(form.elements), () => call("POST", "/api/plan/propose", {text}));
  });
})();
