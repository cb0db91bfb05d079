"""Four eyes on the plan: with login on, nobody approves a row they proposed or edited (a clear
Albanian 403); another secretary may. Local single-user mode has one user and keeps approving."""
from fastapi.testclient import TestClient

from assistant.accounts.auth import AuthDb
from tests.conftest import SAMPLES

PASSWORD = "fjalëkalim-i-gjatë"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_secretary_cannot_approve_their_own_proposal(fresh_app, fresh_services):
    db = AuthDb(fresh_services.database)
    for name, role in (("admin-1", "admin"), ("sekretarja-1", "secretary"), ("sekretarja-2", "secretary")):
        db.add_user(name, role, PASSWORD)
    own, other, admin = (bearer(db.new_token(n)) for n in ("sekretarja-1", "sekretarja-2", "admin-1"))
    text = (SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt").read_text(encoding="utf-8")
    with TestClient(fresh_app) as client:
        rows = client.post("/api/plan/propose", json={"text": text}, headers=own).json()["rows"]
        first, second = rows[0]["id"], rows[1]["id"]
        refused = client.post(f"/api/plan/rows/{first}/approve", json={}, headers=own)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        assert "propozuar ose ndryshuar vetë" in refused.json()["error"]["message"]
        assert client.get(f"/api/plan/rows/{first}", headers=own).json()["row"]["state"] == "proposed"
        assert client.post(f"/api/plan/rows/{first}/approve", json={}, headers=other).status_code == 200
        # an edit makes the editor an author too, admin or not
        assert client.patch(f"/api/plan/rows/{second}", json={"problem": "Vjedhje në dyqane, e rishkruar"}, headers=admin).status_code == 200
        assert client.post(f"/api/plan/rows/{second}/approve", json={}, headers=admin).status_code == 403
        assert client.post(f"/api/plan/rows/{second}/approve", json={}, headers=other).status_code == 200


def test_local_single_user_mode_still_approves(fresh_app):
    text = (SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt").read_text(encoding="utf-8")
    with TestClient(fresh_app) as client:
        row = client.post("/api/plan/propose", json={"text": text}).json()["rows"][0]
        assert client.post(f"/api/plan/rows/{row['id']}/approve", json={}).json()["row"]["state"] == "approved"
