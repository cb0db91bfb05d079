"""The audit log: a hash chain that reveals edited, removed and reordered entries; its API and trace
page. Every test runs on both engines (tests/engines.py)."""
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.accounts import audit
from assistant.accounts.auth import AuthDb
from assistant.core.settings import get_settings
from tests.engines import ENGINES, REFUSED, cli_env, raw, services_for, settings_for, tamper


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
def db(database):
    for n, action in enumerate(("plan.row.propose", "plan.row.edit", "plan.row.approve", "minutes.draft"), 1):
        audit.record(database, "sekretarja", action, "plan_row", f"r{n % 2}", {"ndryshim": f"Afati → {n} muaj"})
    return database


@pytest.fixture()
def verify_cli(settings, monkeypatch):
    from web.cli.main import app as kvsp

    monkeypatch.delenv("KVSP_DATABASE_URL", raising=False)
    for key, value in cli_env(settings).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield lambda: CliRunner().invoke(kvsp, ["audit", "verify"])
    get_settings.cache_clear()


def test_entries_are_chained(db):
    newest_first = audit.entries(db)
    assert [e["id"] for e in newest_first] == [4, 3, 2, 1]
    oldest = newest_first[-1]
    assert oldest["prev_hash"] == audit.GENESIS and len(oldest["hash"]) == 64
    assert all(later["prev_hash"] == earlier["hash"] for later, earlier in zip(newest_first, newest_first[1:]))
    assert oldest["details"] == {"ndryshim": "Afati → 1 muaj"}
    assert audit.verify(db) == []


def test_the_log_refuses_update_and_delete(db):
    conn = raw(db)
    with pytest.raises(REFUSED, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'dikush' WHERE id = 2")
    with pytest.raises(REFUSED, match="append-only"):
        conn.execute("DELETE FROM audit_log WHERE id = 2")
    conn.close()


def test_verify_cli_reports_an_edited_entry(db, verify_cli):
    ok = verify_cli()
    assert ok.exit_code == 0 and ok.output.startswith("ok: 4 entries")
    tamper(db, "UPDATE audit_log SET details = '{\"ndryshim\":\"Afati → 12 muaj\"}' WHERE id = 2")
    broken = verify_cli()
    assert broken.exit_code == 1
    assert "edited: entry 2" in broken.output and broken.output.strip().endswith("bad entries: 2")


def test_verify_cli_reports_a_removed_entry(db, verify_cli):
    tamper(db, "DELETE FROM audit_log WHERE id = 2")
    broken = verify_cli()
    assert broken.exit_code == 1
    assert "removed: entry 2 is missing" in broken.output and broken.output.strip().endswith("bad entries: 2")


def test_verify_finds_a_removed_last_entry(db):
    tamper(db, "DELETE FROM audit_log WHERE id = 4")
    assert [(p.entry_id, p.kind) for p in audit.verify(db)] == [(4, "removed")]
    # the next entry does not paper over the gap
    audit.record(db, "sekretarja", "plan.row.reject", "plan_row", "r9")
    assert [(p.entry_id, p.kind) for p in audit.verify(db)] == [(4, "removed")]


def test_verify_finds_a_reordered_chain(db):
    # Swap entries 2 and 3 whole, hashes included, keeping the ids in place.
    columns = "ts, actor, action, object_type, object_id, details, prev_hash, hash"
    tamper(db, "CREATE TABLE saved AS SELECT * FROM audit_log WHERE id IN (2, 3)",
           f"UPDATE audit_log SET ({columns}) = (SELECT {columns} FROM saved WHERE saved.id = 5 - audit_log.id) "
           "WHERE id IN (2, 3)")
    # each now carries a hash made for the other position, and entry 4 no longer follows entry 3
    assert [(p.entry_id, p.kind) for p in audit.verify(db)] == [(2, "edited"), (3, "edited"), (4, "broken_link")]


def test_verify_finds_a_rewritten_entry_by_its_successor(db):
    """Someone who recomputes the edited entry's own hash (with the key file) breaks the link of the next one."""
    entry = audit.entries(db, object_id="r0", action="plan.row.edit")[0]
    entry["details"] = {"ndryshim": "asgjë"}
    forged = audit.entry_hash(entry["prev_hash"], entry, audit.chain_key(db))
    tamper(db, f"UPDATE audit_log SET details = '{{\"ndryshim\":\"asgjë\"}}', hash = '{forged}' WHERE id = 2")
    assert [(p.entry_id, p.kind) for p in audit.verify(db)] == [(3, "broken_link")]


def test_the_chain_key_is_a_0600_file_beside_the_database_not_in_it(db, settings):
    key_file = settings.data_dir / audit.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    secret = audit.chain_key(db).secret.hex()
    rows = raw(db).execute("SELECT * FROM audit_log").fetchall()
    assert all(secret not in str(row) for row in rows) and audit.chain_key(db).since == 1


def test_a_chain_recomputed_without_the_key_fails_verify(db):
    """Someone with the database file but not the key rewrites an entry and recomputes every hash
    after it, links and all: the plain SHA-256 they can compute is not the keyed one."""
    rows = list(reversed(audit.entries(db)))
    rows[1]["details"] = {"ndryshim": "asgjë"}
    statements, prev = [], audit.GENESIS
    for entry in rows:
        entry["prev_hash"] = prev
        prev = audit.entry_hash(prev, entry)  # no key
        statements.append(f"UPDATE audit_log SET details = '{audit.canonical(entry['details'])}', "
                          f"prev_hash = '{entry['prev_hash']}', hash = '{prev}' WHERE id = {entry['id']}")
    tamper(db, *statements)
    assert [(p.entry_id, p.kind) for p in audit.verify(db)] == [(1, "edited"), (2, "edited"), (3, "edited"),
                                                                (4, "edited")]


def test_a_cut_of_the_newest_entries_is_found_from_a_noted_head(db, verify_cli, settings, monkeypatch):
    from web.cli.main import app as kvsp

    noted = audit.head(db)["hash"]
    # the last two entries removed, and the sequence wound back so that no id seems missing
    sequence = "sqlite_sequence" if db.engine == "sqlite" else "audit_sequence"
    tamper(db, "DELETE FROM audit_log WHERE id >= 3", f"UPDATE {sequence} SET seq = 2 WHERE name = 'audit_log'")
    assert audit.verify(db) == []  # the database alone cannot tell
    assert [(p.entry_id, p.kind) for p in audit.verify(db, noted)] == [(3, "cut")]
    broken = CliRunner().invoke(kvsp, ["audit", "verify", "--head", noted])
    assert broken.exit_code == 1 and "cut:" in broken.output


def test_record_joins_the_callers_transaction(database):
    with pytest.raises(RuntimeError):
        with database.transaction() as conn:
            conn.execute("INSERT INTO artifacts VALUES ('a1', 'answer', 'now', '{}')")
            audit.record(database, "sekretarja", "plan.row.approve", "plan_row", "r1")
            raise RuntimeError("the change failed: its audit entry goes with it")
    assert audit.entries(database) == []
    with database.transaction() as conn:
        conn.execute("INSERT INTO artifacts VALUES ('a1', 'answer', 'now', '{}')")
        audit.record(database, "sekretarja", "plan.row.approve", "plan_row", "r1")
    assert [e["action"] for e in audit.entries(database)] == ["plan.row.approve"] and audit.verify(database) == []


def test_uploads_and_deletes_are_audited(app, headers, database):
    with TestClient(app) as client:
        body = "Neni 1. Këshilli mblidhet çdo tre muaj për sigurinë publike në bashki.".encode()
        up = client.post("/api/documents", headers=headers["admin"], files={"file": ("neni.txt", body)})
        assert up.status_code == 201, up.text
        doc = up.json()["document"]
        assert client.delete(f"/api/documents/{doc['id']}", headers=headers["admin"]).status_code == 200
    found = audit.entries(database, object_id=doc["id"])
    assert [e["action"] for e in found] == ["document.delete", "document.added"]
    assert all(e["details"]["sha256"] == doc["sha256"] and e["details"]["filename"] == "neni.txt" for e in found)
    assert found[0]["actor"] == "admin-1" and audit.verify(database) == []


def test_filters(db):
    assert [e["id"] for e in audit.entries(db, object_id="r0")] == [4, 2]
    assert [e["id"] for e in audit.entries(db, action="plan.row.approve", actor="sekretarja")] == [3]
    today = audit.entries(db)[0]["ts"][:10]
    assert len(audit.entries(db, since=today, until=today)) == 4
    assert audit.entries(db, until="2000-01-01") == []
    assert audit.entries(db, since=today + "T23:59:59.999+00:00") == []


@pytest.fixture()
def app(fresh_app):
    return fresh_app


@pytest.fixture()
def headers(database) -> dict[str, dict]:
    accounts = AuthDb(database)
    out = {}
    for role in ("admin", "auditor", "member"):
        accounts.add_user(f"{role}-1", role, "fjalëkalim-i-gjatë")
        out[role] = {"Authorization": "Bearer " + accounts.new_token(f"{role}-1")}
    return out


def test_audit_api_is_for_auditors(app, db, headers):
    with TestClient(app) as client:
        assert client.get("/api/audit", headers=headers["member"]).status_code == 403
        found = client.get("/api/audit?object_id=r1&actor=sekretarja", headers=headers["auditor"]).json()
        assert [e["id"] for e in found["entries"]] == [3, 1]
        assert client.get("/api/audit?since=dje", headers=headers["auditor"]).status_code == 422
        assert client.get("/api/audit/verify", headers=headers["auditor"]).json()["ok"] is True
        page = client.get("/audit?action=minutes.draft", headers=headers["auditor"])
        assert page.status_code == 200 and "minutes.draft" in page.text and "plan.row.edit" not in page.text
        assert f'<code id="audit-head">{audit.head(db)["hash"]}</code>' in page.text  # the whole head, to note
        noted = audit.head(db)["hash"]
        assert client.get(f"/api/audit/verify?head={noted}", headers=headers["auditor"]).json()["ok"] is True
        assert client.get("/api/audit/verify?head=" + "ab" * 32, headers=headers["auditor"]).json()["ok"] is False
        tamper(db, "UPDATE audit_log SET actor = 'dikush' WHERE id = 1")
        chain = client.get("/api/audit/verify", headers=headers["admin"]).json()
        assert chain["ok"] is False and chain["problems"][0]["entry_id"] == 1


def test_trace_page_shows_sources_and_history(app, database, headers):
    store = app.state.services.store
    artifact_id = store.save_artifact("plan_proposal", {
        "inputs": {"document_id": "d-konsultim"},
        "rows": [{"problem": "Ndriçimi në rrugën e Shkollës", "source": {
            "document_id": "d-konsultim", "start": 120, "end": 168, "quote": "rruga pa ndriçim pranë shkollës"}}]})
    audit.record(database, "sekretarja", "plan.row.approve", "plan_row", "r7",
                 {"artifact_id": artifact_id, "reason": "prioritet i lartë"})
    with TestClient(app) as client:
        assert client.get(f"/trace/{artifact_id}", headers=headers["member"]).status_code == 403
        page = client.get(f"/trace/{artifact_id}", headers=headers["auditor"])
        assert page.status_code == 200
        assert "/documents/d-konsultim?start=120&amp;end=168" in page.text
        assert "rruga pa ndriçim pranë shkollës" in page.text and "prioritet i lartë" in page.text
        twin = client.get(f"/api/trace/{artifact_id}", headers=headers["auditor"]).json()
        assert [s["start"] for s in twin["sources"]] == [120] and twin["audit"][0]["actor"] == "sekretarja"
        assert client.get("/api/trace/a-none", headers=headers["auditor"]).status_code == 404
