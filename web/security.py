"""What every request passes before a route, and what every response carries.

- The Host header must name this server (loopback names and KVSP_ALLOWED_HOSTS): a page on another
  name that resolves to 127.0.0.1 (DNS rebinding) is refused before it can read or write.
- A state-changing request from a browser must come from this origin (Origin, else Referer).
- A state-changing request riding on the session cookie must carry the session's CSRF token
  (header X-CSRF-Token, or form field csrf_token); bearer-token calls need none.
- Proxy headers are read only when KVSP_TRUST_PROXY says a proxy is in front.
- Security headers on every response.
"""
import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request

from web.deps import SESSION_COOKIE
from web.errors import ApiError, error_response

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# Logging in starts the session, so there is no token yet; the Origin check covers those.
CSRF_EXEMPT = ("/login", "/api/login")
DEFAULT_PORTS = {"http": 80, "https": 443}

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# FastAPI's /docs and /redoc pages load their viewer from a CDN with an inline bootstrap script.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
               "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
               "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"))


def csrf_token(session_id: str) -> str:
    """The session's CSRF token: derived from the secret session id, so nothing more is stored and
    a page on another site, which cannot read the HttpOnly cookie, cannot compute it."""
    return hashlib.sha256(f"kvsp-csrf\0{session_id}".encode("utf-8", "replace")).hexdigest()


def split_host(netloc: str, scheme: str) -> tuple[str, int] | None:
    """ "Example.org:8000" -> ("example.org", 8000); "[::1]" -> ("[::1]", 80); None when malformed."""
    netloc = netloc.strip().lower()
    if not netloc or any(c in netloc for c in "/\\@ "):
        return None
    name, port = netloc, ""
    if netloc.startswith("["):
        close = netloc.find("]")
        if close < 0:
            return None
        name, rest = netloc[: close + 1], netloc[close + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    elif ":" in netloc:
        name, _, port = netloc.rpartition(":")
    if port and not (port.isascii() and port.isdigit() and int(port) < 65536):
        return None
    return name.rstrip("."), int(port) if port else DEFAULT_PORTS.get(scheme, 80)


def _origin(headers: dict) -> tuple[str, int] | None | bool:
    """Where a browser says the request comes from: (host, port), None when it says nothing, False when
    it says something unreadable ("null", a malformed URL)."""
    value = headers.get("origin") or headers.get("referer")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in DEFAULT_PORTS:
        return False
    return split_host(parts.netloc, parts.scheme) or False


def _refuse(code: str, message: str):
    return error_response(403, code, message)


class RequestGuard:
    """ASGI middleware: proxy headers (when trusted), served host, same origin, security headers."""

    def __init__(self, app, settings):
        self.app = app
        self.allowed = set(LOOPBACK_HOSTS) | set(settings.allowed_hosts)
        self.trust_proxy = settings.trust_proxy

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.trust_proxy:
            scope = self._behind_proxy(scope, headers)
        policy = DOCS_POLICY if scope.get("path") in ("/docs", "/redoc") else PAGE_POLICY

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *HEADERS,
                                      (b"content-security-policy", policy.encode())]
            await send(message)

        refusal = self._refusal(scope, headers)
        if refusal is not None:
            return await refusal(scope, receive, with_headers)
        return await self.app(scope, receive, with_headers)

    def _host(self, scope, headers) -> tuple[str, int] | None:
        raw = headers.get("x-forwarded-host", "").split(",")[0] if self.trust_proxy else ""
        return split_host(raw or headers.get("host", ""), scope.get("scheme", "http"))

    def _refusal(self, scope, headers):
        host = self._host(scope, headers)
        if host is None or host[0] not in self.allowed:
            return _refuse("forbidden_host", "Kërkesa u refuzua: ky server nuk shërbehet me këtë emër (Host). "
                                             "Shtojeni emrin te KVSP_ALLOWED_HOSTS nëse është i juaji.")
        if scope.get("method") in STATE_CHANGING:
            origin = _origin(headers)
            if origin is not None and origin != host:
                return _refuse("cross_origin", "Kërkesa u refuzua: ajo vjen nga një faqe tjetër (Origin), "
                                               "jo nga ky server.")
        return None

    @staticmethod
    def _behind_proxy(scope, headers) -> dict:
        """The client and scheme the proxy saw: the last X-Forwarded-For entry is the one our proxy
        appended (earlier ones are whatever the client claimed)."""
        scope = dict(scope)
        forwarded = [a.strip() for a in headers.get("x-forwarded-for", "").split(",") if a.strip()]
        if forwarded:
            scope["client"] = (forwarded[-1], 0)
        proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in DEFAULT_PORTS:
            scope["scheme"] = proto
        return scope


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: a state-changing request on a session cookie carries its CSRF token."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if request.method not in STATE_CHANGING or not session_id or request.url.path in CSRF_EXEMPT:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return  # a script's bearer token: no browser sends it by itself
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else ""
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), csrf_token(session_id).encode()):
        raise ApiError(403, "csrf_failed", "Kërkesa u refuzua: mungon token-i CSRF i seancës (X-CSRF-Token). "
                                           "Ringarkoni faqen dhe provoni përsëri.")


def page_csrf_token(request: Request) -> str:
    """The token a page embeds for its scripts and forms ("" without a session)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    return csrf_token(session_id) if session_id else ""
