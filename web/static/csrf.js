// Every state-changing request of the pages carries the session's CSRF token (the server refuses it
// otherwise): same-origin fetch calls get the X-CSRF-Token header, posted forms a csrf_token field.
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.content : "";
  if (!token) return;  // no session: local single-user mode, or the login page
  const safe = new Set(["GET", "HEAD", "OPTIONS"]);
  const nativeFetch = window.fetch.bind(window);
  window.fetch = function (resource, init) {
    const options = Object.assign({}, init);
    const url = new URL(resource instanceof Request ? resource.url : String(resource), location.href);
    const method = (options.method || (resource instanceof Request ? resource.method : "GET")).toUpperCase();
    if (url.origin === location.origin && !safe.has(method)) {
      const headers = new Headers(options.headers || (resource instanceof Request ? resource.headers : undefined));
      headers.set("X-CSRF-Token", token);
      options.headers = headers;
    }
    return nativeFetch(resource, options);
  };
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post" || form.elements.csrf_token) return;
    const field = document.createElement("input");
    field.type = "hidden";
    field.name = "csrf_token";
    field.value = token;
    form.appendChild(field);
  }, true);
})();
