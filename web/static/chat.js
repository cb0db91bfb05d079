// The chat page: asks /api/ask/stream, shows the answer as it arrives, then citations as chips.
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

  const history = () => JSON.parse(sessionStorage.getItem(KEY) || "[]");
  const remember = (turn) => sessionStorage.setItem(KEY, JSON.stringify([...history(), turn]));

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
    if (r.citations.length) {
      li.append(el("h3", "sources-title", r.abstained ? T.see_also : T.sources));
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
    const foot = el("div", "meta foot", `${T.backend} ${r.backend} · `);
    const trace = el("a", "trace", T.trace);
    trace.href = `/trace/${encodeURIComponent(r.artifact_id)}`;
    foot.append(trace);
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
      const resp = await fetch("/api/ask/stream", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({question}),
      });
      if (!resp.ok || !resp.body) throw new Error(String(resp.status));
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
    sessionStorage.removeItem(KEY);
    log.replaceChildren();
    empty.hidden = false;
    input.focus();
  });
  for (const t of history()) renderAnswer(turn(t.question), t.response);
  if (log.lastElementChild) log.lastElementChild.scrollIntoView({block: "end"});
})();
