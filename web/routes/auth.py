"""Login and logout (page and API), the admin's user management, and the login guard.

`install(app)` adds this router and the guard: deny by default, every path except the login
routes and static files needs a user; the API answers 401 JSON, pages redirect to /login.
"""
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from assistant.accounts import audit
from assistant.accounts.auth import ROLES, AuthError, token_id_of
from web.deps import SESSION_COOKIE, CurrentUser, auth_db, current_user, get_database, in_local_mode, require_role
from web.errors import ApiError, error_response
from web.pages import render
from web.params import Text
from web.security import csrf_token
from web.throttle import LoginThrottle

router = APIRouter()

PUBLIC_PATHS = ("/login", "/api/login")
PUBLIC_PREFIXES = ("/static/",)
_STATUS = {"not_found": 404, "conflict": 409, "invalid_request": 422}
AUDITED_NAME_CHARS = 64


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.add_middleware(LoginGuard)


class LoginGuard:
    """ASGI middleware that lets a request through only with a user (or to a public path)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(PUBLIC_PREFIXES):
            return await self.app(scope, receive, send)
        request = Request(scope)
        # Resolved on public paths too, so that the login page knows the mode and its banner is current.
        if current_user(request) is None and path not in PUBLIC_PATHS:
            if path.startswith("/api/") or request.method not in ("GET", "HEAD"):
                response = error_response(401, "unauthorized", "Log in, or send 'Authorization: Bearer <token>'.")
            else:
                target = path + ("?" + request.url.query if request.url.query else "")
                response = RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so the login form cannot send anyone elsewhere."""
    return target if target and target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _log(request: Request, actor: str, action: str, object_id: str | None, details: dict | None = None) -> None:
    audit.record(get_database(request), actor, action, "user", object_id, details)


def _start_session(request: Request, response: Response, user: dict) -> str:
    session_id = auth_db(request).new_session(user["name"])
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")
    _log(request, user["name"], "login", user["name"])
    return session_id


def _end_session(request: Request, response: Response, user: dict) -> None:
    if session_id := request.cookies.get(SESSION_COOKIE):
        auth_db(request).end_session(session_id)
        _log(request, user["name"], "logout", user["name"])
    response.delete_cookie(SESSION_COOKIE, path="/")


def _login(request: Request, name: str, password: str) -> dict | None:
    """The user, None for a wrong name or password, or 429 while the account or address is throttled."""
    throttle: LoginThrottle = request.app.state.login_throttle
    keys = throttle.keys(name, request.client.host if request.client else None)
    wait = throttle.retry_after(keys)
    if wait is not None:
        raise ApiError(429, "too_many_attempts", f"Shumë përpjekje të gabuara hyrjeje; provoni pas {wait} sekondash.",
                       headers={"Retry-After": str(wait)})
    user = auth_db(request).check_password(name, password)
    if user is None:
        throttle.failed(keys)
        # The name tried goes to details, not to `actor`: nobody has proved to be anyone; cut, since
        # the audit log keeps whatever it is given for ever.
        _log(request, "anonymous", "login.failed", None, {"name": name[:AUDITED_NAME_CHARS]})
    else:
        throttle.succeeded(keys[0])
    return user


def _api_error(exc: AuthError) -> ApiError:
    return ApiError(_STATUS[exc.code], exc.code, str(exc))


# -- pages -------------------------------------------------------------------------------------
@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/"):
    if in_local_mode(request):
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", next=_safe_next(next), error=False)


@router.post("/login", include_in_schema=False)
def login_form(request: Request, name: Text = Form(...), password: Text = Form(...), next: Text = Form("/")):
    user = _login(request, name, password)
    if user is None:
        response = render(request, "login.html", next=_safe_next(next), error=True, user_name=name)
        response.status_code = 401
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    _start_session(request, response, user)
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, user: CurrentUser):
    response = RedirectResponse("/login", status_code=303)
    _end_session(request, response, user)
    return response


# -- API ---------------------------------------------------------------------------------------
class Credentials(BaseModel):
    name: Text
    password: Text


@router.post("/api/login")
def api_login(request: Request, body: Credentials, response: Response):
    """Starts a cookie session (for the pages' scripts); scripts use a bearer token instead."""
    user = _login(request, body.name, body.password)
    if user is None:
        raise ApiError(401, "unauthorized", "Wrong user name or password.")
    session_id = _start_session(request, response, user)
    return {"user": user, "csrf_token": csrf_token(session_id)}


@router.post("/api/logout")
def api_logout(request: Request, user: CurrentUser, response: Response):
    _end_session(request, response, user)
    return {"user": None}


@router.get("/api/me")
def me(request: Request, user: CurrentUser):
    return {"user": user, "local_mode": in_local_mode(request)}


class NewUser(BaseModel):
    name: Text
    role: Text
    password: Text


class UserChange(BaseModel):
    role: Text | None = None
    password: Text | None = None


@router.get("/api/users")
def list_users(request: Request, user: dict = require_role("admin")):
    return {"users": auth_db(request).list_users(), "roles": list(ROLES)}


@router.post("/api/users", status_code=201)
def add_user(request: Request, body: NewUser, user: dict = require_role("admin")):
    try:
        created = auth_db(request).add_user(body.name, body.role, body.password)
    except AuthError as exc:
        raise _api_error(exc) from exc
    _log(request, user["name"], "user.create", created["name"], {"role": created["role"]})
    return {"user": created}


@router.patch("/api/users/{name}")
def change_user(request: Request, name: str, body: UserChange, user: dict = require_role("admin")):
    try:
        changed = auth_db(request).update_user(name, role=body.role, password=body.password)
    except AuthError as exc:
        raise _api_error(exc) from exc
    # a password change also ends the user's sessions and revokes their tokens (AuthDb.update_user)
    _log(request, user["name"], "user.update", name,
         {"role": body.role, "password_changed": body.password is not None,
          **({"sessions_and_tokens_revoked": True} if body.password is not None else {})})
    return {"user": changed}


@router.delete("/api/users/{name}", status_code=204)
def remove_user(request: Request, name: str, user: dict = require_role("admin")):
    try:
        auth_db(request).remove_user(name)
    except AuthError as exc:
        raise _api_error(exc) from exc
    _log(request, user["name"], "user.delete", name)
    return Response(status_code=204)


@router.post("/api/users/{name}/tokens", status_code=201)
def new_token(request: Request, name: str, user: dict = require_role("admin")):
    """A new API token for `name`, shown this once."""
    try:
        token = auth_db(request).new_token(name)
    except AuthError as exc:
        raise _api_error(exc) from exc
    _log(request, user["name"], "token.create", name, {"token_id": token_id_of(token)})
    return {"token": token, "id": token_id_of(token)}


@router.get("/api/users/{name}/tokens")
def list_tokens(request: Request, name: str, user: dict = require_role("admin")):
    """The user's tokens by id and date; a token itself is shown only when it is made."""
    try:
        return {"tokens": auth_db(request).list_tokens(name)}
    except AuthError as exc:
        raise _api_error(exc) from exc


@router.delete("/api/users/{name}/tokens/{token_id}", status_code=204)
def revoke_token(request: Request, name: str, token_id: str, user: dict = require_role("admin")):
    try:
        revoked = auth_db(request).revoke_token(name, token_id)
    except AuthError as exc:
        raise _api_error(exc) from exc
    _log(request, user["name"], "token.revoke", name, {"token_id": revoked})
    return Response(status_code=204)
