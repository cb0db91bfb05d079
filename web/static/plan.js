// The plan page: approve / reject / edit proposals inline, change a row's status, propose from text.
(function () {
  const message = document.getElementById("plan-message");

  async function call(method, url, body) {
    const response = await fetch(url, {
      method, headers: {"Content-Type": "application/json"}, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      message.textContent = (data.error && data.error.message) || response.statusText;
      throw new Error(message.textContent);
    }
    return data;
  }

  function lines(text) {
    return text.split("\n").map((s) => s.trim()).filter(Boolean);
  }

  function fields(box) {
    const get = (name) => box.querySelector(`[name="${name}"]`).value;
    return {problem: get("problem"), priority: get("priority"), deadline_text: get("deadline_text") || null,
            activities: lines(get("activities")), responsible: lines(get("responsible"))};
  }

  document.querySelectorAll(".proposal").forEach((box) => {
    const url = `/api/plan/rows/${encodeURIComponent(box.dataset.id)}`;
    box.querySelector(".save").addEventListener("click", async () => {
      await call("PATCH", url, fields(box));
      location.reload();
    });
    box.querySelector(".approve").addEventListener("click", async () => {
      await call("PATCH", url, fields(box)).catch(() => null);
      await call("POST", `${url}/approve`, {});
      location.reload();
    });
    box.querySelector(".reject").addEventListener("click", async () => {
      const reason = prompt(box.dataset.rejectPrompt || "Arsyeja / reason") || null;
      await call("POST", `${url}/reject`, {reason});
      location.reload();
    });
  });

  document.querySelectorAll("tr[data-id] select.status").forEach((select) => {
    select.addEventListener("change", async () => {
      const id = select.closest("tr").dataset.id;
      await call("POST", `/api/plan/rows/${encodeURIComponent(id)}/status`, {status: select.value});
      location.reload();
    });
  });

  const form = document.getElementById("propose");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = document.getElementById("concerns").value;
    if (!text.trim()) return;
    await call("POST", "/api/plan/propose", {text});
    location.reload();
  });
})();
