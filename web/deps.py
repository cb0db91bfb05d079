"""Dependencies shared by the routers, as `Annotated` aliases, and who is asking.

A request's user comes from `Authorization: Bearer <token>` (scripts, the API) or the session
cookie (pages); in local single-user mode (no account yet) everyone is the local admin.
Write routes say which role they need: `user: dict = require_role("secretary")`; admin passes
every check. Reads need a logged-in user only (`user: CurrentUser`).
"""
from typing import Annotated

from fastapi import Depends, Request

from assistant.accounts.auth import ROLES, AuthDb
from assistant.answers.conversations import Conversations
from assistant.core.settings import Settings
from assistant.store.base import Store
from web.errors import ApiError

LOCAL_ADMIN = {"name": "local", "role": "admin"}
SESSION_COOKIE = "kvsp_session"


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.services.store


def get_services(request: Request):
    return request.app.state.services


def get_database(request: Request):
    """The database of accounts, the audit log and the plan (the store's, SQLite or PostgreSQL)."""
    return request.app.state.services.database


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[Store, Depends(get_store)]
ServicesDep = Annotated[object, Depends(get_services)]


def auth_db(request: Request) -> AuthDb:
    return AuthDb(get_database(request))


def conversations_of(request: Request) -> Conversations:
    """The saved chat conversations (each read and write names its owner)."""
    return Conversations(get_database(request))


def current_user(request: Request) -> dict | None:
    """The user making the request, or None; resolved once per request and kept on request.state.
    Also keeps `app.state.local_mode` current for the pages' banner."""
    if hasattr(request.state, "user"):
        return request.state.user
    db = auth_db(request)
    local = db.local_mode()
    request.app.state.local_mode = local
    user = None
    if local:
        user = LOCAL_ADMIN
    else:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            user = db.user_for_token(token.strip())
        elif request.cookies.get(SESSION_COOKIE):
            user = db.user_for_session(request.cookies[SESSION_COOKIE])
    request.state.user = user
    return user


def in_local_mode(request: Request) -> bool:
    current_user(request)
    return request.app.state.local_mode


def require_login(request: Request) -> dict:
    user = current_user(request)
    if user is None:
        raise ApiError(401, "unauthorized", "Log in, or send 'Authorization: Bearer <token>'.")
    return user


CurrentUser = Annotated[dict, Depends(require_login)]


def require_role(*roles: str):
    """`Depends` on a logged-in user holding one of `roles` (admin passes every check); its value
    is the user {"name", "role"}. The roles stay readable on the check for the route-matrix test."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"require_role needs roles among {ROLES}, got {roles}")

    def check(request: Request) -> dict:
        user = require_login(request)
        if user["role"] == "admin" or user["role"] in roles:
            return user
        raise ApiError(403, "forbidden", f"This needs the role {' or '.join(roles)}; you are {user['role']}.")

    check.roles = roles
    return Depends(check)
