// Secretary's page: notes -> editable structured meeting -> draft with sources on hover -> .docx.
// All document text goes into the page through textContent / value, never as HTML.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("minutes-i18n").textContent);
  const $ = (id) => document.getElementById(id);
  const SCALARS = ["municipality", "meeting_number", "date", "scheduled_time", "start_time", "end_time",
                   "place", "chair", "secretary"];
  const LONG = ["municipality", "place", "chair", "secretary"];
  const GROUPS = ["present", "absent", "invited", "late", "left_early"];
  let state = { id: null, notes: "", meeting: null };
  // The server counts characters as code points; JS strings index UTF-16 units, so an emoji in the notes
  // would shift every later offset. Slice code-point arrays instead.
  let notePoints = [];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function input(value, label) {
    const node = el("input", { type: "text", "aria-label": label });
    node.value = value || "";
    return node;
  }

  // Long values (an action, an institution, a place) get a text area, so nothing is cut off.
  function area(value, label) {
    const node = el("textarea", { rows: "2", "aria-label": label });
    node.value = value || "";
    return node;
  }

  function removeButton(row) {
    const b = el("button", { type: "button", "aria-label": T.remove }, "×");
    b.addEventListener("click", () => row.remove());
    return b;
  }

  function personRow(p, group) {
    const tr = el("tr");
    const select = el("select", { "aria-label": T.group });
    GROUPS.forEach((g) => {
      const o = el("option", { value: g }, T[g]);
      if (g === group) o.selected = true;
      select.appendChild(o);
    });
    [input(p.name, T.name), area(p.institution, T.institution), select, input(p.time, T.time)].forEach((c) => {
      const td = el("td"); td.appendChild(c); tr.appendChild(td);
    });
    const td = el("td"); td.appendChild(removeButton(tr)); tr.appendChild(td);
    return tr;
  }

  function actionRow(a) {
    const tr = el("tr");
    tr.dataset.source = JSON.stringify(a.source || {});
    [area(a.action, T.action), area((a.owner || []).join("; "), T.owner), input(a.due, T.due),
     area(a.due_text, T.due_text)].forEach((c) => { const td = el("td"); td.appendChild(c); tr.appendChild(td); });
    const td = el("td"); td.appendChild(removeButton(tr)); tr.appendChild(td);
    return tr;
  }

  function fillForm(meeting, actions) {
    const fields = $("fields");
    fields.replaceChildren();
    SCALARS.forEach((k) => {
      const label = el("label", {}, T[k] + " ");
      const box = LONG.includes(k) ? area(meeting[k], T[k]) : input(meeting[k], T[k]);
      box.dataset.key = k;
      label.appendChild(box);
      fields.appendChild(label);
    });
    const people = $("people").tBodies[0];
    people.replaceChildren();
    GROUPS.forEach((g) => (meeting[g] || []).forEach((p) => people.appendChild(personRow(p, g))));
    ["agenda", "decisions", "deferred"].forEach((k) => { $(k).value = (meeting[k] || []).join("\n"); });
    const rows = $("actions").tBodies[0];
    rows.replaceChildren();
    actions.forEach((a) => rows.appendChild(actionRow(a)));
    $("step-form").hidden = false;
  }

  function readForm() {
    const meeting = Object.assign({}, state.meeting, { trace: null });
    $("fields").querySelectorAll("input, textarea").forEach((i) => { meeting[i.dataset.key] = i.value.trim() || null; });
    GROUPS.forEach((g) => { meeting[g] = []; });
    Array.from($("people").tBodies[0].rows).forEach((tr) => {
      const [name, inst, group, time] = Array.from(tr.querySelectorAll("input, textarea, select")).map((x) => x.value.trim());
      if (name) meeting[group].push({ name: name, institution: inst || null, time: time || null });
    });
    ["agenda", "decisions", "deferred"].forEach((k) => {
      meeting[k] = $(k).value.split("\n").map((s) => s.trim()).filter(Boolean);
    });
    const actions = Array.from($("actions").tBodies[0].rows).map((tr) => {
      const [action, owner, due, dueText] = Array.from(tr.querySelectorAll("input, textarea")).map((x) => x.value.trim());
      return { action: action, owner: owner.split(";").map((s) => s.trim()).filter(Boolean), due: due || null,
               due_text: dueText || null, source: JSON.parse(tr.dataset.source || "{}") };
    }).filter((a) => a.action);
    return { meeting: meeting, actions: actions };
  }

  function sourceText(sources) {
    return (sources || []).map((s) => notePoints.slice(s.start, s.end).join("")).join("\n");
  }

  function showSource(src) {
    $("draft-source").textContent = src ? T.source + ":\n" + src : T.no_source;
  }

  function showDraft(draft) {
    const box = $("draft");
    const text = Array.from(draft.text);
    box.replaceChildren();
    let pos = 0;
    draft.sentences.forEach((s) => {
      box.appendChild(document.createTextNode(text.slice(pos, s.start).join("")));
      const span = el("span", { tabindex: "0", "aria-describedby": "draft-source" }, text.slice(s.start, s.end).join(""));
      const src = sourceText(s.sources);
      if (src) span.style.borderBottom = "1px dotted var(--muted)";
      span.addEventListener("mouseenter", () => showSource(src));
      span.addEventListener("focus", () => showSource(src));
      box.appendChild(span);
      pos = s.end;
    });
    box.appendChild(document.createTextNode(text.slice(pos).join("")));
    const warnings = draft.warnings || [];
    const list = $("draft-warnings").querySelector("ul");
    list.replaceChildren(...warnings.map((w) => el("li", {}, w)));
    $("draft-warnings").hidden = warnings.length === 0;
    state.warnings = warnings;
    $("download").href = "/api/minutes/" + encodeURIComponent(state.id) + ".docx";
    $("step-draft").hidden = false;
  }

  async function post(body) {
    $("status").textContent = T.working;
    const buttons = [$("analyse"), $("redraft")];
    buttons.forEach((b) => { b.disabled = true; });  // one request at a time: a second would fork the draft
    try {
      const data = await window.kvsp.api("/api/minutes/draft", { method: "POST", json: body });
      state.id = data.id;
      state.meeting = data.meeting;
      $("status").textContent = "";
      return data;
    } catch (e) {
      $("status").textContent = T.error + " " + window.kvsp.errorText(e);
      return null;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  $("notes-file").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (file) $("notes").value = await file.text();
  });

  $("analyse").addEventListener("click", async () => {
    if (!$("notes").value.trim()) { $("status").textContent = T.empty; return; }
    state.notes = $("notes").value;
    notePoints = Array.from(state.notes);
    const data = await post({ notes: state.notes });
    if (data) { fillForm(data.meeting, data.actions); showDraft(data.draft); }
  });

  $("redraft").addEventListener("click", async () => {
    const form = readForm();
    const data = await post({ notes: state.notes, id: state.id, meeting: form.meeting, actions: form.actions });
    if (data) showDraft(data.draft);
  });

  // The Word file is made from what the page shows now: the edits are sent first (stored as
  // corrections of this draft), then the file of that draft is downloaded.
  $("download").addEventListener("click", async (ev) => {
    ev.preventDefault();
    if ((state.warnings || []).length && !window.confirm(T.confirm_export + "\n" + state.warnings.join("\n"))) return;
    const form = readForm();
    const data = await post({ notes: state.notes, id: state.id, meeting: form.meeting, actions: form.actions });
    if (!data) return;
    showDraft(data.draft);
    window.location.assign($("download").href);
  });

  $("add-person").addEventListener("click", () => $("people").tBodies[0].appendChild(personRow({}, "present")));
  $("add-action").addEventListener("click", () => $("actions").tBodies[0].appendChild(actionRow({})));
})();
