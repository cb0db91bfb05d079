// The chat page: asks /api/ask/stream, shows the answer as it arrives, then citations as chips;
// each answer can be copied or asked again ("regenerate"); an abstention lists no passages (they
// would not be its sources) but offers the search page. The conversation is kept in this browser
// (localStorage) across reloads until "Clear".
// Document text only ever enters the page through textContent, never as HTML.
(() => {
  "use strict";
  const T = JSON.parse(document.getElementById("chat-text").textContent);
  const KEY = "kvsp-chat";
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("q");
  const empty = document.getElementById("empty");
  const send = document.getElementById("send");

  const MAX_TURNS = 50;  // what the browser keeps across reloads; older turns drop off
  const history = () => { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } };
  const keep = (turns) => localStorage.setItem(KEY, JSON.stringify(turns.slice(-MAX_TURNS)));
  // A turn is stored once under its id; asked again, its entry is replaced in place.
  const remember = (turn) => {
    const turns = history();
    const at = turns.findIndex((t) => t.id === turn.id);
    if (at >= 0) turns[at] = turn; else turns.push(turn);
    keep(turns);
  };
  const newId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

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

  function turn(question) {
    empty.hidden = true;
    const q = el("li", "turn user");
    q.append(el("span", "who", T.you), el("p", "question", question));
    const a = el("li", "turn assistant");
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

  // Ask `question`; with `again` (an answer's turn), the answer replaces that one.
  async function ask(question, again) {
    const li = again || turn(question);
    const id = li.dataset.turn || newId();
    li.dataset.turn = id;
    li.dataset.question = question;
    li.replaceChildren(el("span", "who", T.assistant));
    const p = el("p", "answer streaming", "");
    p.setAttribute("aria-busy", "true");
    const wait = el("p", "meta", T.thinking);
    li.append(wait, p);
    send.disabled = true;
    try {
      // the earlier questions go along: a follow-up ("Po kush e kryeson?") is read with the one before
      const turns = history();
      const at = turns.findIndex((t) => t.id === id);  // asked again: only the turns before it
      const earlier = (at >= 0 ? turns.slice(0, at) : turns).map((t) => t.question).slice(-5);
      const resp = await window.kvsp.api("/api/ask/stream", {method: "POST", json: {question, history: earlier}, raw: true});
      if (!resp.body) throw new Error("no stream");
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "", done = null;
      for (;;) {
        const {value, done: end} = await reader.read();
        if (value) buffer += decoder.decode(value, {stream: true});
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (!line.trim()) continue;
          const event = JSON.parse(line);
          wait.remove();
          if (event.type === "delta") p.textContent += event.text;
          else if (event.type === "done") done = event;
        }
        if (end) break;
      }
      if (!done) throw new Error("incomplete answer");
      renderAnswer(li, done);
      remember({id, question, response: done});
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
  document.getElementById("clear").addEventListener("click", () => {
    localStorage.removeItem(KEY);
    log.replaceChildren();
    empty.hidden = false;
    input.focus();
  });
  const stored = history().map((t) => (t.id ? t : Object.assign({ id: newId() }, t)));  // older entries had no id
  keep(stored);
  for (const t of stored) {
    const li = turn(t.question);
    li.dataset.turn = t.id;
    li.dataset.question = t.question;
    renderAnswer(li, t.response);
  }
  if (log.lastElementChild) log.lastElementChild.scrollIntoView({block: "end"});
})();
