// The chat page: conversations saved on the server, listed in a side panel (a menu on a phone);
// the open one is named in the address (?c=id), so a reload keeps it. A question goes to
// /api/ask/stream with the conversation's id (the server reads it with its record); an LLM's reply
// shows as it is written, then the checked answer replaces it, with citations as chips. Each answer
// can be copied or asked again ("regenerate", replaced in place); an abstention lists no passages
// (they would not be its sources) but offers the search page.
// Document text only ever enters the page through textContent, never as HTML.
(() => {
  "use strict";
  const { api, confirmInline } = window.kvsp;
  const T = JSON.parse(document.getElementById("chat-text").textContent);
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("q");
  const empty = document.getElementById("empty");
  const send = document.getElementById("send");
  const panel = document.getElementById("conversations");
  const list = document.getElementById("conversation-list");
  const menu = document.getElementById("menu");
  let current = new URLSearchParams(location.search).get("c");  // the open conversation's id, or null

  localStorage.removeItem("kvsp-chat");  // where earlier versions kept a conversation: on a shared computer, a leak

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function chip(c) {
    const a = el("a", "chip", String(c.n));
    a.href = c.url;
    a.title = `${T.cite} ${c.n}: ${c.title}, ${T.page} ${c.page}`;
    a.setAttribute("aria-label", a.title);
    return a;
  }

  function backendName(backend) {
    if (backend === "offline") return T.offline;
    return backend.startsWith("llm:") ? `${T.llm} (${backend.slice(4)})` : backend;
  }

  // The answer as plain text with its numbered sources, for pasting into a report.
  function plainAnswer(r) {
    const sources = r.citations.map((c) => `[${c.n}] ${c.title}, ${T.page} ${c.page}`);
    return [r.answer, ...(sources.length && !r.abstained ? ["", T.sources + ":", ...sources] : [])].join("\n");
  }

  function copyButton(r) {
    const b = el("button", "secondary copy", T.copy);
    b.type = "button";
    b.addEventListener("click", async () => {
      const text = plainAnswer(r);
      try {
        await navigator.clipboard.writeText(text);
      } catch (e) {  // no clipboard permission: copy through a selected, hidden text box
        const box = el("textarea", "visually-hidden");
        box.value = text;
        document.body.append(box);
        box.select();
        document.execCommand("copy");
        box.remove();
      }
      b.textContent = T.copied;
      setTimeout(() => { b.textContent = T.copy; }, 2000);
    });
    return b;
  }

  // ---- the conversation on screen -------------------------------------------------------------

  function turn(question) {
    empty.hidden = true;
    const q = el("li", "turn user");
    q.append(el("span", "who", T.you), el("p", "question", question));
    const a = el("li", "turn assistant");
    a.dataset.question = question;
    a.append(el("span", "who", T.assistant));
    log.append(q, a);
    return a;
  }

  function regenerateButton(li) {
    const b = el("button", "secondary regenerate", T.regenerate);
    b.type = "button";
    b.addEventListener("click", () => { if (!send.disabled) ask(li.dataset.question, li); });
    return b;
  }

  function renderAnswer(li, r) {
    li.replaceChildren(el("span", "who", T.assistant));
    if (r.llm_check === "trimmed" || r.llm_check === "rejected") {
      li.append(el("p", "meta check", r.llm_check === "trimmed" ? T.check_trimmed : T.check_rejected));
    }
    const byN = new Map(r.citations.map((c) => [c.n, c]));
    const p = el("p", r.abstained ? "answer abstained" : "answer");
    for (const part of r.answer.split(/(\[\d+\])/)) {
      const m = part.match(/^\[(\d+)\]$/);
      p.append(m && byN.has(+m[1]) && !r.abstained ? chip(byN.get(+m[1])) : document.createTextNode(part));
    }
    li.append(p);
    if (r.context) li.append(el("p", "meta", `${T.read_with} «${r.context}»`));
    if (r.abstained) {  // the nearest passages did not answer: not sources, so not listed
      const search = el("a", "search-instead", T.search_instead);
      search.href = `/search?q=${encodeURIComponent(li.dataset.question)}`;
      const hint = el("p", "meta");
      hint.append(search);
      li.append(hint);
    } else if (r.citations.length) {
      li.append(el("h3", "sources-title", T.sources));
      const ol = el("ol", "sources");
      for (const c of r.citations) {
        const item = el("li");
        const meta = el("div", "meta");
        meta.append(chip(c), document.createTextNode(` ${c.title} · ${T.page} ${c.page}`));
        item.append(meta, el("blockquote", "quote", c.quote));
        ol.append(item);
      }
      li.append(ol);
    }
    const foot = el("div", "meta foot", `${T.backend} ${backendName(r.backend)} · `);
    const trace = el("a", "trace", T.trace);
    trace.href = `/trace/${encodeURIComponent(r.artifact_id)}`;
    foot.append(trace, copyButton(r), regenerateButton(li));
    li.append(foot);
  }

  function show(id) {
    current = id;
    const url = new URL(location.href);
    if (id) url.searchParams.set("c", id); else url.searchParams.delete("c");
    history.replaceState(null, "", url);
    for (const a of list.querySelectorAll("a.open")) {
      if (a.dataset.id === id) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
    }
  }

  function startNew() {
    show(null);
    log.replaceChildren();
    empty.hidden = false;
    closeMenu();
    input.focus();
  }

  async function open(id) {
    let conversation;
    try {
      conversation = (await api(`/api/conversations/${encodeURIComponent(id)}`)).conversation;
    } catch (e) {  // deleted, or not this user's: a new conversation instead
      startNew();
      return refreshList();
    }
    show(id);
    log.replaceChildren();
    empty.hidden = conversation.turns.length > 0;
    for (const t of conversation.turns) {
      const li = turn(t.question);
      li.dataset.turn = t.id;
      renderAnswer(li, t);
    }
    closeMenu();
    if (log.lastElementChild) log.lastElementChild.scrollIntoView({block: "end"});
  }

  // ---- the side panel --------------------------------------------------------------------------

  async function refreshList() {
    let conversations = [];
    try {
      conversations = (await api("/api/conversations")).conversations;
    } catch (e) {
      return;  // the list stays as it was; asking still works
    }
    document.getElementById("no-conversations").hidden = conversations.length > 0;
    list.replaceChildren(...conversations.map((c) => {
      const li = el("li");
      const a = el("a", "open", c.title || T.untitled);
      a.title = c.title || T.untitled;  // the whole question, where the panel cuts it
      a.href = `/?c=${encodeURIComponent(c.id)}`;
      a.dataset.id = c.id;
      if (c.id === current) a.setAttribute("aria-current", "true");
      a.addEventListener("click", (e) => { e.preventDefault(); if (!send.disabled) open(c.id); });
      const remove = el("button", "secondary delete", T.delete);
      remove.type = "button";
      remove.setAttribute("aria-label", `${T.delete}: ${c.title || T.untitled}`);
      remove.addEventListener("click", async () => {
        if (!(await confirmInline(remove, T.confirm_delete, T.cancel))) return;
        try {
          await api(`/api/conversations/${encodeURIComponent(c.id)}`, {method: "DELETE"});
        } catch (e) { /* already gone: the list below shows what is left */ }
        if (c.id === current) startNew();
        refreshList();
      });
      li.append(a, remove);
      return li;
    }));
  }

  function closeMenu() {
    panel.classList.remove("open");
    menu.setAttribute("aria-expanded", "false");
  }

  menu.addEventListener("click", () => {
    const opened = panel.classList.toggle("open");
    menu.setAttribute("aria-expanded", String(opened));
    if (opened) (list.querySelector("a.open") || document.getElementById("new-chat")).focus();
  });
  document.getElementById("new-chat").addEventListener("click", () => { if (!send.disabled) startNew(); });

  // ---- asking ----------------------------------------------------------------------------------

  // The NDJSON events of a streamed answer, one at a time.
  async function* events(resp) {
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (value) buffer += decoder.decode(value, {stream: true});
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line);
      }
      if (done) return;
    }
  }

  // Ask `question`; with `again` (an answer's turn), the answer replaces that one.
  async function ask(question, again) {
    const li = again || turn(question);
    li.replaceChildren(el("span", "who", T.assistant));
    const wait = el("p", "meta", T.thinking);
    const p = el("p", "answer streaming", "");
    p.setAttribute("aria-busy", "true");
    li.append(wait, p);
    send.disabled = true;
    try {
      if (!current) show((await api("/api/conversations", {method: "POST", json: {}})).conversation.id);
      const body = {question, conversation_id: current};
      if (again && li.dataset.turn) body.turn_id = li.dataset.turn;
      const resp = await api("/api/ask/stream", {method: "POST", json: body, raw: true});
      let final = null;
      for await (const event of events(resp)) {
        if (event.type === "delta") {  // the model's draft: shown as written, checked at the end
          wait.textContent = T.draft;
          p.textContent += event.text;
        } else if (event.type === "done") {
          final = event;
        } else {
          throw new Error(event.error.code);
        }
      }
      if (!final) throw new Error("incomplete answer");
      li.dataset.turn = final.turn_id;
      renderAnswer(li, final);
      refreshList();
    } catch (err) {
      li.replaceChildren(el("span", "who", T.assistant), el("p", "answer error", T.error), regenerateButton(li));
    } finally {
      send.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const question = input.value.trim();
    if (!question || send.disabled) return;
    input.value = "";
    ask(question);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  for (const b of document.querySelectorAll("button.example")) {
    b.addEventListener("click", () => { input.value = b.textContent; form.requestSubmit(); });
  }

  refreshList();
  if (current) open(current);
})();
