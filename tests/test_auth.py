"""Roles and login: accounts, hashed secrets, the login pages, and a role-by-route matrix over the real app."""
import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.accounts.auth import ROLES, AuthDb, AuthError, local_mode, token_id_of
from assistant.core.settings import get_settings
from tests.engines import ENGINES, cli_env, raw, services_for, settings_for

PASSWORD = "fjalëkalim-i-gjatë"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Paths anyone may reach: the login form and its API twin.
PUBLIC = {"/login", "/api/login"}
# Writes open to every logged-in user: asking is a read whatever its method; one's own conversations; logging out.
OPEN_WRITES = {("POST", "/api/ask"), ("POST", "/api/ask/stream"), ("POST", "/api/conversations"),
               ("DELETE", "/api/conversations/{conversation_id}"), ("POST", "/logout"), ("POST", "/api/logout")}


@pytest.fixture(params=ENGINES)
def fresh_services(request, tmp_path, services):
    with services_for(settings_for(request.param, tmp_path / "data", request), services) as fresh:
        yield fresh


@pytest.fixture()
def settings(fresh_services):
    return fresh_services.settings


@pytest.fixture()
def database(fresh_services):
    return fresh_services.database


@pytest.fixture()
def app(fresh_app):
    return fresh_app


@pytest.fixture()
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture()
def tokens(database) -> dict[str, str]:
    """One account per role (admin first: it turns login on) and a bearer token for each."""
    db = AuthDb(database)
    for role in ("admin", "secretary", "member", "auditor"):
        db.add_user(f"{role}-1", role, PASSWORD)
    return {role: db.new_token(f"{role}-1") for role in ROLES}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def required_roles(dependant) -> tuple[str, ...] | None:
    """The roles a route's `require_role` asks for, found anywhere in its dependency tree."""
    for dep in dependant.dependencies:
        roles = getattr(dep.call, "roles", None) or required_roles(dep)
        if roles:
            return roles
    return None


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "zz-none", path)


def test_role_by_route_matrix(client, app, tokens):
    """Every route of the app, enumerated: unauthenticated → 401 (API) or the login page; a
    write needs a role check, the wrong role gets 403 and the right one gets past the check."""
    failures, writes_seen = [], 0
    for route in iter_route_contexts(app.routes):
        if not route.methods or route.path in PUBLIC:
            continue
        url = concrete(route.path)
        roles = required_roles(route.dependant) if getattr(route, "dependant", None) else None
        for method in sorted(route.methods - {"HEAD"}):
            anonymous = client.request(method, url)
            if url.startswith("/api/") or method != "GET":
                if anonymous.status_code != 401 or anonymous.json()["error"]["code"] != "unauthorized":
                    failures.append(f"{method} {route.path} unauthenticated: {anonymous.status_code}")
            elif anonymous.status_code != 303 or not anonymous.headers["location"].startswith("/login?next="):
                failures.append(f"{method} {route.path} unauthenticated page: {anonymous.status_code}")
            if method not in WRITES and roles is None:
                continue  # a read for any logged-in user
            writes_seen += method in WRITES
            if roles is None and (method, route.path) not in OPEN_WRITES:
                failures.append(f"{method} {route.path} is a write without require_role(...)")
                continue
            for role, token in tokens.items():
                answer = client.request(method, url, headers=bearer(token))
                allowed = roles is None or role == "admin" or role in roles
                if allowed and answer.status_code in (401, 403):
                    failures.append(f"{method} {route.path} as {role}: {answer.status_code}, expected access")
                if not allowed and (answer.status_code != 403 or answer.json()["error"]["code"] != "forbidden"):
                    failures.append(f"{method} {route.path} as {role}: {answer.status_code}, expected 403")
    assert writes_seen >= 6  # documents and users at least: the enumeration found the routers
    assert failures == []


def test_local_mode_until_the_first_admin(client, database):
    assert local_mode(database)
    assert client.get("/api/me").json() == {"user": {"name": "local", "role": "admin"}, "local_mode": True}
    assert client.get("/login").headers["location"] == "/"
    with pytest.raises(AuthError, match="first account must be an admin"):
        AuthDb(database).add_user("sekretarja", "secretary", PASSWORD)
    created = client.post("/api/users", json={"name": "admin", "role": "admin", "password": PASSWORD})
    assert created.status_code == 201
    assert not local_mode(database)
    assert client.get("/api/me").status_code == 401
    assert client.get("/documents").headers["location"] == "/login?next=%2Fdocuments"


def test_login_page_session_cookie_and_logout(client, settings, tokens):
    failed = client.post("/login", data={"name": "member-1", "password": "gabim-gabim", "next": "/documents"})
    assert failed.status_code == 401 and 'name="password"' in failed.text
    assert "kvsp_session" not in failed.cookies

    ok = client.post("/login", data={"name": "member-1", "password": PASSWORD, "next": "/documents"})
    assert ok.status_code == 303 and ok.headers["location"] == "/documents"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    session_id = ok.cookies["kvsp_session"]
    page = client.get("/documents")
    assert page.status_code == 200
    token = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)[1]
    assert client.get("/api/me").json()["user"] == {"name": "member-1", "role": "member"}
    denied = client.delete("/api/documents/x", headers={"X-CSRF-Token": token})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"  # a member cannot delete

    assert client.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    client.cookies.set("kvsp_session", session_id)  # the old cookie is dead on the server too
    assert client.get("/documents").status_code == 303

    evil = client.post("/login", data={"name": "member-1", "password": PASSWORD, "next": "//evil.example/x"})
    assert evil.headers["location"] == "/"


def test_api_login_and_bad_tokens(client, tokens):
    assert client.post("/api/login", json={"name": "auditor-1", "password": "x" * 9}).status_code == 401
    assert client.get("/api/documents", headers=bearer("kvsp_not-a-token")).status_code == 401
    assert client.get("/api/documents", headers=bearer(tokens["member"])).status_code == 200
    logged = client.post("/api/login", json={"name": "auditor-1", "password": PASSWORD})
    assert logged.json()["user"] == {"name": "auditor-1", "role": "auditor"}
    assert client.get("/api/audit").status_code == 200


def test_secrets_are_never_stored_in_clear(database, tokens, client):
    login = client.post("/api/login", json={"name": "secretary-1", "password": PASSWORD})
    session_id = login.cookies["kvsp_session"]
    with raw(database) as conn:
        hashes = [row[0] for row in conn.execute("SELECT password_hash FROM users").fetchall()]
        stored = " ".join(str(v) for table in ("users", "api_tokens", "sessions")
                          for row in conn.execute(f"SELECT * FROM {table}").fetchall() for v in row)
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert PASSWORD not in stored and session_id not in stored
    assert not any(token in stored for token in tokens.values())


def test_accounts_rules(database, tokens):
    db = AuthDb(database)
    assert db.check_password("admin-1", PASSWORD) == {"name": "admin-1", "role": "admin"}
    assert db.check_password("admin-1", PASSWORD + "x") is None
    assert db.check_password("nobody", PASSWORD) is None
    with pytest.raises(AuthError, match="at least"):
        db.add_user("shkurt", "member", "1234")
    with pytest.raises(AuthError, match="exists"):
        db.add_user("member-1", "member", PASSWORD)
    with pytest.raises(AuthError, match="last admin"):
        db.remove_user("admin-1")
    with pytest.raises(AuthError, match="last admin"):
        db.update_user("admin-1", role="member")

    session = db.new_session("secretary-1")
    db.update_user("secretary-1", password="një-fjalëkalim-i-ri")
    assert db.user_for_session(session) is None  # a new password ends the old sessions
    assert db.user_for_token(tokens["secretary"]) is None  # and revokes the old tokens
    assert db.list_tokens("secretary-1") == []
    assert db.user_for_token(tokens["auditor"]) == {"name": "auditor-1", "role": "auditor"}  # others keep theirs
    db.remove_user("member-1")
    assert db.user_for_token(tokens["member"]) is None


def test_admin_manages_users_over_the_api(client, tokens):
    admin = bearer(tokens["admin"])
    assert client.post("/api/users", json={"name": "ana", "role": "chief", "password": PASSWORD},
                       headers=admin).json()["error"]["code"] == "invalid_request"
    assert client.post("/api/users", json={"name": "ana", "role": "member", "password": PASSWORD},
                       headers=admin).status_code == 201
    assert client.patch("/api/users/ana", json={"role": "secretary"}, headers=admin).json()["user"]["role"] == "secretary"
    token = client.post("/api/users/ana/tokens", headers=admin).json()["token"]
    assert client.get("/api/me", headers=bearer(token)).json()["user"] == {"name": "ana", "role": "secretary"}
    assert client.delete("/api/users/ana", headers=admin).status_code == 204
    assert client.get("/api/me", headers=bearer(token)).status_code == 401
    names = [u["name"] for u in client.get("/api/users", headers=admin).json()["users"]]
    assert "ana" not in names and "admin-1" in names
    actions = [e["action"] for e in client.get("/api/audit?object_id=ana", headers=admin).json()["entries"]]
    assert actions == ["user.delete", "token.create", "user.update", "user.create"]


@pytest.fixture()
def cli(settings, monkeypatch):
    from web.cli.main import app as kvsp

    monkeypatch.delenv("KVSP_DATABASE_URL", raising=False)
    for key, value in cli_env(settings).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield lambda *args, **kw: CliRunner().invoke(kvsp, list(args), **kw)
    get_settings.cache_clear()


def test_cli_users_add_and_token(cli, database):
    added = cli("users", "add", "drejtori", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert cli("users", "add", "drejtori2", "--role", "chief", "--password", PASSWORD).exit_code == 2
    assert cli("users", "add", "sekretari", "--role", "secretary", "--password", PASSWORD).exit_code == 0
    made = cli("users", "token", "sekretari")
    assert made.exit_code == 0
    token = made.output.strip()
    assert AuthDb(database).user_for_token(token) == {"name": "sekretari", "role": "secretary"}
    assert cli("users", "token", "askush").exit_code == 2
    assert "sekretari\tsecretary\t1 token(s)" in cli("users", "list").output


def test_admin_lists_and_revokes_tokens_over_the_api_audited(client, database, tokens):
    from assistant.accounts import audit

    admin = bearer(tokens["admin"])
    second = client.post("/api/users/member-1/tokens", headers=admin).json()
    listed = client.get("/api/users/member-1/tokens", headers=admin).json()["tokens"]
    assert {t["id"] for t in listed} == {second["id"], token_id_of(tokens["member"])}
    assert len(listed) == 2 and not any(tokens["member"] in str(t) or second["token"] in str(t) for t in listed)
    assert client.get("/api/users/member-1/tokens", headers=bearer(tokens["member"])).status_code == 403
    assert client.delete(f"/api/users/member-1/tokens/{second['id']}", headers=admin).status_code == 204
    assert client.get("/api/documents", headers=bearer(second["token"])).status_code == 401
    assert client.get("/api/documents", headers=bearer(tokens["member"])).status_code == 200  # the other stays
    assert client.delete(f"/api/users/member-1/tokens/{second['id']}", headers=admin).status_code == 404
    # a password change revokes every token and session of the user
    assert client.patch("/api/users/member-1", json={"password": "një-fjalëkalim-i-ri"}, headers=admin).status_code == 200
    assert client.get("/api/documents", headers=bearer(tokens["member"])).status_code == 401
    actions = [(e["action"], (e["details"] or {}).get("token_id")) for e in audit.entries(database)]
    assert ("token.create", second["id"]) in actions and ("token.revoke", second["id"]) in actions
    assert audit.verify(database) == []


def test_cli_lists_and_revokes_tokens(cli, database):
    assert cli("users", "add", "drejtori", "--role", "admin", "--password", PASSWORD).exit_code == 0
    first, second = (cli("users", "token", "drejtori").output.strip() for _ in range(2))
    listed = cli("users", "tokens", "drejtori").output.splitlines()
    assert len(listed) == 2
    ids = [line.split("\t")[0] for line in listed]
    revoked = cli("users", "token-revoke", "drejtori", ids[0])
    assert revoked.exit_code == 0 and ids[0] in revoked.output
    db = AuthDb(database)
    assert [db.user_for_token(t) is None for t in (first, second)].count(True) == 1
    assert cli("users", "token-revoke", "drejtori", ids[0]).exit_code == 2  # gone already
    left = first if db.user_for_token(first) else second
    assert cli("users", "token-revoke", "drejtori", left).exit_code == 0  # the token itself names it too
    assert cli("users", "tokens", "drejtori", "--json").output.strip() == "[]"
    assert cli("users", "tokens", "askush").exit_code == 2
