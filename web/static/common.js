// Shared by every page: the one way to call the API, small DOM helpers, and an inline confirmation.
// Text from documents enters the page only through textContent, never as HTML.
(function () {
  "use strict";

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // fetch (csrf.js adds the session's CSRF token to every state-changing call), `json` sent as a JSON body, the error shape {"error": {code, message}} turned into an ApiError.
  // Returns the parsed JSON, or the Response itself when `raw` is set (downloads, streams).
  async function api(path, options) {
    const opts = Object.assign({ method: "GET", credentials: "same-origin" }, options || {});
    const headers = new Headers(opts.headers || {});
    if (opts.json !== undefined) {
      headers.set("Content-Type", "application/json");
      opts.body = JSON.stringify(opts.json);
    }
    const raw = opts.raw;
    delete opts.json;
    delete opts.raw;
    opts.headers = headers;
    let response;
    try {
      response = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, "network", e.message);
    }
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      const error = data.error || {};
      throw new ApiError(response.status, error.code || "http_" + response.status, error.message || response.statusText);
    }
    return raw ? response : response.json();
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // A table of `rows` under `columns` ([{label, value: row => text}]), every cell as text.
  function table(columns, rows, cls) {
    const t = el("table", cls ? { class: cls } : {});
    const head = t.createTHead().insertRow();
    columns.forEach((c) => head.appendChild(el("th", { scope: "col" }, c.label)));
    const body = t.createTBody();
    rows.forEach((r) => {
      const tr = body.insertRow();
      columns.forEach((c) => tr.appendChild(el("td", {}, c.value(r))));
    });
    return t;
  }

  // Replace `button` by "yes" / "no" buttons in place; resolves true on yes. No modal dialog, so the
  // keyboard focus stays where the person is working.
  function confirmInline(button, yesText, noText) {
    return new Promise((resolve) => {
      const box = el("span", { class: "confirm", role: "group" });
      const yes = el("button", { type: "button", class: "danger confirm-yes" }, yesText);
      const no = el("button", { type: "button", class: "secondary confirm-no" }, noText);
      box.append(yes, no);
      button.hidden = true;
      button.after(box);
      const done = (answer) => {
        box.remove();
        button.hidden = false;
        if (!answer) button.focus();
        resolve(answer);
      };
      yes.addEventListener("click", () => done(true));
      no.addEventListener("click", () => done(false));
      yes.focus();
    });
  }

  // "{ext}"-style placeholders filled from `values`.
  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? String(values[k]) : m));
  }

  // Lower case without diacritics, so that "Rregullore" matches "rregull" and "ë" matches "e".
  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function texts(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  // The page's text for an API error (an ApiError, or a failed job's {code}) in the page's language,
  // with "{ext}"-style `values` filled in; an error's own message is for logs, never shown.
  let errorTexts = null;
  function errorText(error, values) {
    errorTexts = errorTexts || texts("error-text");
    return format(errorTexts[error && error.code] || errorTexts.other || "", values);
  }

  window.kvsp = { api, ApiError, el, table, confirmInline, format, fold, texts, errorText };
})();
