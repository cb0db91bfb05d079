// The plan page: approve / reject / edit proposals and change a row's status without leaving the
// page; each action says what happened and keeps the keyboard focus where the work continues.
(function () {
  "use strict";
  const { api, confirmInline, format, texts } = window.kvsp;
  const T = texts("plan-text");
  const message = document.getElementById("plan-message");
  const live = () => document.getElementById("plan-live");

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
  }


  // The table and the proposals as the server renders them now; the filter choice is kept.
  async function refresh() {
    const show = document.getElementById("show").value;
    const html = await (await api("/plan", { raw: true })).text();
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("plan-live");
    live().replaceWith(fresh);
    document.getElementById("show").value = show;
    applyFilter();
  }

  function applyFilter() {
    const show = document.getElementById("show").value;
    document.querySelectorAll("#proposals .proposal").forEach((box) => {
      box.hidden = show !== "all" && box.dataset.state !== show;
    });
  }

  function focusOn(node) {
    if (!node) return;
    node.scrollIntoView({ block: "center" });
    node.focus({ preventScroll: true });
  }

  // After a decision on a proposal: the next waiting proposal (or, with none left, the row just approved).
  function focusAfter(ids, fallbackRow) {
    const next = ids.map((id) => document.querySelector(`.proposal[data-state="pending"][data-id="${id}"]`)).find(Boolean);
    if (next) focusOn(next.querySelector('[name="problem"]'));
    else focusOn(fallbackRow && document.querySelector(`table.plan tr[data-id="${fallbackRow}"]`));
  }

  function lines(text) {
    return text.split("\n").map((s) => s.trim()).filter(Boolean);
  }

  function fields(box) {
    const get = (name) => box.querySelector(`[name="${name}"]`).value;
    return { problem: get("problem"), priority: get("priority") || null, deadline_text: get("deadline_text") || null,
             activities: lines(get("activities")), responsible: lines(get("responsible")) };
  }

  // Runs `steps` with the box's controls disabled (a double click must not approve twice).
  async function act(controls, steps) {
    controls.forEach((c) => { c.disabled = true; });
    try {
      await steps();
    } catch (e) {
      say(window.kvsp.errorText(e), true);
      controls.forEach((c) => { c.disabled = false; });
    }
  }

  document.addEventListener("click", async (ev) => {
    const button = ev.target.closest(".proposal button");
    if (!button || button.closest(".confirm")) return;
    const box = button.closest(".proposal");
    const id = box.dataset.id;
    const url = `/api/plan/rows/${encodeURIComponent(id)}`;
    const controls = Array.from(box.querySelectorAll("button, input, textarea, select"));
    const later = Array.from(document.querySelectorAll('.proposal[data-state="pending"]')).map((b) => b.dataset.id);
    const after = later.slice(later.indexOf(id) + 1).concat(later.slice(0, later.indexOf(id)));
    const problem = box.querySelector('[name="problem"]').value;
    if (button.classList.contains("save")) {
      act(controls, async () => {
        await api(url, { method: "PATCH", json: fields(box) });
        await refresh();
        say(T.saved);
        focusOn(document.querySelector(`.proposal[data-id="${id}"] button.save`));
      });
    } else if (button.classList.contains("approve")) {
      act(controls, async () => {
        await api(url, { method: "PATCH", json: fields(box) });  // what the secretary sees is what gets approved
        await api(`${url}/approve`, { method: "POST", json: {} });
        await refresh();
        say(format(T.approved, { problem }));
        focusAfter(after, id);
      });
    } else if (button.classList.contains("reject")) {
      const reasonBox = box.querySelector('[name="reason"]');
      const reason = reasonBox.value.trim();
      if (!reason) {
        say(T.need_reason, true);
        reasonBox.setAttribute("aria-invalid", "true");
        reasonBox.focus();
        return;
      }
      if (!(await confirmInline(button, T.confirm_reject, T.cancel))) return;
      act(controls, async () => {
        await api(`${url}/reject`, { method: "POST", json: { reason } });
        await refresh();
        say(format(T.rejected, { problem }));
        focusAfter(after, null);
      });
    }
  });

  document.addEventListener("change", (ev) => {
    if (ev.target.id === "show") return applyFilter();
    const select = ev.target.closest("tr[data-id] select.status");
    if (!select) return;
    const id = select.closest("tr").dataset.id;
    const label = select.options[select.selectedIndex].textContent;
    act([select], async () => {
      await api(`/api/plan/rows/${encodeURIComponent(id)}/status`, { method: "POST", json: { status: select.value } });
      await refresh();
      say(format(T.status, { status: label }));
      focusOn(document.querySelector(`table.plan tr[data-id="${id}"] select.status`));
    });
  });

  const form = document.getElementById("propose");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const concerns = document.getElementById("concerns");
    if (!concerns.value.trim()) return;
    act(Array.from(form.elements), async () => {
      const { rows } = await api("/api/plan/propose", { method: "POST", json: { text: concerns.value } });
      await refresh();
      Array.from(form.elements).forEach((c) => { c.disabled = false; });
      concerns.value = "";
      say(rows.length ? format(T.proposed, { n: rows.length }) : T.none_proposed);
      focusOn(rows.length && document.querySelector(`.proposal[data-id="${rows[0].id}"] [name="problem"]`));
    });
  });

  applyFilter();
})();
