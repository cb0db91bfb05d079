"""Two hosts of one council: two app instances over one KVSP_DATABASE_URL, each with its own data
folder, share accounts, sessions, the audit chain and the plan."""
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from assistant.accounts import audit
from assistant.accounts.auth import AuthDb
from assistant.plan.store import PlanStore
from tests.engines import services_for, settings_for
from web.app import create_app

PASSWORD = "fjalëkalim-i-gjatë"
ROWS = [{"problem": "Ndriçimi në rrugën e Shkollës", "priority": "i lartë", "activities": ["Vendosja e llambave"]},
        {"problem": "Qentë endacakë pranë tregut", "priority": "i moderuar", "activities": []}]


@pytest.fixture()
def hosts(request, tmp_path, services):
    """Two Services on the same PostgreSQL, with different data folders (two pools, two processes' worth)."""
    with services_for(settings_for("postgres", tmp_path / "host-a", request), services) as a, \
            services_for(settings_for("postgres", tmp_path / "host-b", request), services) as b:
        assert a.settings.database_url == b.settings.database_url and a.database is not b.database
        # the hosts share one audit key, as they share KVSP_DATA_DIR in a deployment
        audit.chain_key(a.database)
        shutil.copy(a.database.folder / audit.KEY_FILE, b.database.folder / audit.KEY_FILE)
        yield a, b


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_accounts_and_sessions_are_shared(hosts):
    a, b = hosts
    AuthDb(a.database).add_user("admin-1", "admin", PASSWORD)
    token = AuthDb(a.database).new_token("admin-1")
    assert AuthDb(b.database).user_for_token(token) == {"name": "admin-1", "role": "admin"}
    assert not AuthDb(b.database).local_mode()
    with TestClient(create_app(a.settings, a)) as on_a, TestClient(create_app(b.settings, b)) as on_b:
        created = on_b.post("/api/users", headers=bearer(token),
                            json={"name": "sekretarja", "role": "secretary", "password": PASSWORD})
        assert created.status_code == 201, created.text
        login = on_a.post("/api/login", json={"name": "sekretarja", "password": PASSWORD})
        assert login.status_code == 200
        on_b.cookies.set("kvsp_session", login.cookies["kvsp_session"])  # the load balancer sent her to b
        assert on_b.get("/api/me").json()["user"] == {"name": "sekretarja", "role": "secretary"}
    assert [e["action"] for e in audit.entries(a.database, limit=2)] == ["login", "user.create"]


def test_one_audit_chain_while_both_write_at_once(hosts):
    a, b = hosts

    def write(host, n):
        return audit.record(host.database, f"host-{n % 2}", "plan.row.edit", "plan_row", f"r{n}")["id"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(lambda n: write((a, b)[n % 2], n), range(40)))
    assert sorted(ids) == list(range(1, 41))
    assert audit.verify(a.database) == [] and audit.verify(b.database) == []
    assert audit.head(a.database) == audit.head(b.database) and audit.head(a.database)["id"] == 40
    assert {e["actor"] for e in audit.entries(b.database)} == {"host-0", "host-1"}


def test_a_row_approved_through_one_host_is_in_the_plan_of_the_other(hosts):
    a, b = hosts
    AuthDb(a.database).add_user("admin-1", "admin", PASSWORD)
    AuthDb(a.database).add_user("sekretarja", "secretary", PASSWORD)
    token = AuthDb(a.database).new_token("sekretarja")
    admin = AuthDb(a.database).new_token("admin-1")  # nobody approves a row they proposed
    first, second = PlanStore(a.database).add_rows(ROWS, origin="extract", actor="sekretarja")
    with TestClient(create_app(a.settings, a)) as on_a, TestClient(create_app(b.settings, b)) as on_b:
        approved = on_b.post(f"/api/plan/rows/{first['id']}/approve", headers=bearer(admin), json={"reason": "po"})
        assert approved.status_code == 200, approved.text
        rejected = on_a.post(f"/api/plan/rows/{second['id']}/reject", headers=bearer(token), json={})
        assert rejected.status_code == 200, rejected.text
        plan_a = on_a.get("/api/plan", headers=bearer(token)).json()
        plan_b = on_b.get("/api/plan", headers=bearer(token)).json()
    assert plan_a == plan_b
    assert PlanStore(b.database).get(second["id"])["state"] == "rejected"
    assert [r["id"] for r in PlanStore(a.database).plan()] == [first["id"]]
    assert PlanStore(a.database).versions() == PlanStore(b.database).versions()
    actions = [e["action"] for e in audit.entries(b.database, object_id=first["id"])]
    assert actions == ["plan.approve", "plan.propose"] and audit.verify(a.database) == []
