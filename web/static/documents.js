// The documents page: upload by picker or drag-and-drop as background jobs with a progress bar,
// filter the list by kind and title, and per document: action items, import as plan, delete.
(function () {
  "use strict";
  const { api, el, table, confirmInline, format, fold, texts, errorText: pageError } = window.kvsp;
  const T = texts("documents-text");
  const $ = (id) => document.getElementById(id);
  const ACCEPTED = ["pdf", "docx", "txt", "md"];
  const POLL_MS = 400;

  function extension(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  }

  function errorText(code, name) {
    return pageError({ code }, { ext: extension(name) || "?", mb: T.limit_mb });
  }

  // ---- upload -------------------------------------------------------------------------------------

  function uploadItem(name) {
    const li = el("li", { class: "upload" });
    const bar = el("progress", { max: "100", value: "0", "aria-label": name });
    const line = el("div", { class: "meta" }, T.stage.queued);
    li.append(el("strong", {}, name), bar, line);
    $("uploads").prepend(li);
    return { li, bar, line };
  }

  function fail(item, code, name) {
    item.bar.remove();
    item.li.classList.add("failed");
    item.line.className = "error";
    item.line.setAttribute("role", "alert");
    item.line.textContent = errorText(code, name);
  }

  function showProgress(item, job) {
    item.bar.value = job.percent;
    const stage = format(T.stage[job.stage] || T.stage.parse, { done: job.done, total: job.total });
    item.line.textContent = `${stage} · ${job.percent}%`;
  }

  function showDone(item, result) {
    const d = result.document;
    item.bar.value = 100;
    item.li.classList.add("done");
    const link = el("a", { href: `/documents/${encodeURIComponent(d.id)}` }, d.title);
    item.line.replaceChildren(document.createTextNode(T[result.status] + " "), link,
      document.createTextNode(` · ${format(T.pages, { n: d.pages })} · ${format(T.chunks, { n: d.chunks })}`));
    (result.warnings || []).forEach((w) => item.li.append(el("div", { class: "warning", role: "note" }, w)));
  }

  async function upload(file) {
    const item = uploadItem(file.name);
    if (!ACCEPTED.includes(extension(file.name))) return fail(item, "unsupported_type", file.name);
    if (file.size > T.limit_mb * 1024 * 1024) return fail(item, "too_large", file.name);
    if (file.size === 0) return fail(item, "empty_file", file.name);
    const body = new FormData();
    body.append("file", file);
    try {
      let { job } = await api("/api/documents", { method: "POST", body, headers: { Prefer: "respond-async" } });
      while (job.state === "queued" || job.state === "running") {
        showProgress(item, job);
        await new Promise((r) => setTimeout(r, POLL_MS));
        job = (await api(`/api/jobs/${encodeURIComponent(job.id)}`)).job;
      }
      if (job.state === "failed") return fail(item, job.error.code, file.name);
      showDone(item, job.result);
      await refreshList();
    } catch (e) {
      fail(item, e.code, file.name);
    }
  }

  function uploadAll(files) {
    Array.from(files).forEach(upload);  // the server queues them; each has its own bar
  }

  $("file").addEventListener("change", (ev) => { uploadAll(ev.target.files); ev.target.value = ""; });
  const drop = $("drop");
  // Dropping anywhere on the page uploads: a file dropped beside the box must not open in the tab.
  document.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  document.addEventListener("dragleave", (ev) => { if (!ev.relatedTarget) drop.classList.remove("over"); });
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length) uploadAll(ev.dataTransfer.files);
  });

  // ---- list ---------------------------------------------------------------------------------------

  function applyFilter() {
    const kind = $("kind").value;
    const words = fold($("title-q").value).split(/\s+/).filter(Boolean);
    const rows = Array.from($("docs").tBodies[0].querySelectorAll("tr[data-id]"));
    let shown = 0;
    rows.forEach((tr) => {
      const title = fold(tr.dataset.title);
      const visible = (!kind || tr.dataset.kind === kind) && words.every((w) => title.includes(w));
      tr.hidden = !visible;
      shown += visible ? 1 : 0;
    });
    $("doc-count").textContent = format(T.shown, { n: shown, total: rows.length });
  }

  // The list and the kind filter as the server renders them now (after an upload or a delete).
  async function refreshList() {
    const response = await api("/documents", { raw: true });
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    $("docs").tBodies[0].replaceWith(fresh.getElementById("docs").tBodies[0]);
    const kind = $("kind").value;
    $("kind").replaceChildren(...fresh.getElementById("kind").children);
    $("kind").value = kind;
    applyFilter();
  }

  $("kind").addEventListener("change", applyFilter);
  $("title-q").addEventListener("input", applyFilter);
  $("filter").addEventListener("submit", (ev) => ev.preventDefault());

  // ---- per document -------------------------------------------------------------------------------

  function showResult(title, content) {
    $("doc-result-title").textContent = title;
    $("doc-result-body").replaceChildren(...content);
    $("doc-result").hidden = false;
    $("doc-result-title").setAttribute("tabindex", "-1");
    $("doc-result-title").focus();
  }

  const ACTION_COLUMNS = [
    { label: T.action, value: (a) => a.action },
    { label: T.owner, value: (a) => (a.owner || []).join("; ") },
    { label: T.due, value: (a) => a.due_text || a.due || "" },
  ];
  const ROW_COLUMNS = [
    { label: T.nr, value: (r) => r.nr || "" },
    { label: T.problem, value: (r) => r.problem || "" },
    { label: T.priority, value: (r) => r.priority || r.priority_as_written || "" },
    { label: T.activities, value: (r) => (r.activities || []).join("\n") },
    { label: T.responsible, value: (r) => (r.responsible || []).join("\n") },
    { label: T.due, value: (r) => r.deadline_text || "" },
  ];

  async function run(button, work) {
    const message = $("doc-message");
    button.disabled = true;
    message.textContent = T.working;
    try {
      message.textContent = (await work()) || "";
    } catch (e) {
      message.textContent = pageError(e);
    } finally {
      button.disabled = false;
    }
  }

  $("docs").addEventListener("click", async (ev) => {
    const button = ev.target.closest("button");
    const tr = button && button.closest("tr[data-id]");
    if (!tr) return;
    const id = tr.dataset.id;
    const title = tr.querySelector("a").textContent;
    if (button.classList.contains("do-actions")) {
      run(button, async () => {
        const { items } = await api("/api/actions/extract", { method: "POST", json: { document_id: id } });
        showResult(`${T.actions_title}: ${title}`,
          items.length ? [table(ACTION_COLUMNS, items, "result-table")] : [el("p", {}, T.no_actions)]);
      });
    } else if (button.classList.contains("do-import")) {
      run(button, async () => {
        const { rows } = await api("/api/plan/import", { method: "POST", json: { document_id: id } });
        const link = el("p", {});
        link.append(el("a", { href: "/plan" }, T.to_plan));
        showResult(`${T.import_title}: ${title}`,
          rows.length ? [table(ROW_COLUMNS, rows, "result-table"), link] : [el("p", {}, T.no_rows)]);
      });
    } else if (button.classList.contains("do-delete")) {
      if (!(await confirmInline(button, format(T.confirm_delete, { title }), T.cancel))) return;
      run(button, async () => {
        await api(`/api/documents/${encodeURIComponent(id)}`, { method: "DELETE" });
        const next = tr.nextElementSibling || tr.previousElementSibling;
        await refreshList();
        const focus = next && document.querySelector(`#docs tr[data-id="${next.dataset.id}"] a`);
        if (focus) focus.focus();
        return format(T.deleted, { title });
      });
    }
  });

  applyFilter();
})();
