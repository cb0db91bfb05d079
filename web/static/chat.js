// The chat page: asks /api/ask/stream, shows the answer as it arrives, then citations as chips;
// the conversation is kept in this browser (localStorage) across reloads until "Clear".
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
  const remember = (turn) => localStorage.setItem(KEY, JSON.stringify([...history(), turn].slice(-MAX_TURNS)));

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

  function renderAnswer(li, r) {
    li.replaceChildren(el("span", "who", T.assistant));
    const byN = new Map(r.citations.map((c) => [c.n, c]));
    const p = el("p", r.abstained ? "answer abstained" : "answer");
    for (const part of r.answer.split(/(\[\d+\])/)) {
      const m = part.match(/^\[(\d+)\]$/);
      p.append(m && byN.has(+m[1]) ? chip(byN.get(+m[1])) : document.createTextNode(part));
    }
    li.append(p);
    if (r.context) li.append(el("p", "meta", `${T.read_with} «${r.context}»`));
    if (r.citations.length) {
      li.append(el("h3", "sources-title", r.abstained ? T.see_also : T.sources));
      if (r.abstained) li.append(el("p", "see-also-note", T.see_also_note));
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
    foot.append(trace, copyButton(r));
    li.append(foot);
  }

  async function ask(question) {
    const li = turn(question);
    const p = el("p", "answer streaming", "");
    p.setAttribute("aria-busy", "true");
    const wait = el("p", "meta", T.thinking);
    li.append(wait, p);
    send.disabled = true;
    try {
      // the earlier questions go along: a follow-up ("Po kush e kryeson?") is read with the one before
      const earlier = history().map((t) => t.question).slice(-5);
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
      remember({question, response: done});
    } catch (err) {
      li.replaceChildren(el("span", "who", T.assistant), el("p", "answer error", T.error));
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
  for (const t of history()) renderAnswer(turn(t.question), t.response);
  if (log.lastElementChild) log.lastElementChild.scrollIntoView({block: "end"});
})();
