"""Background jobs: the runner's bounds and failures, and uploads as jobs over the real app
(202 at once, progress, the finished document searchable; a failed file stores nothing);
deleting a document is role-checked and audited."""
import threading
import time

import pytest
from fastapi.testclient import TestClient

from assistant.accounts import audit
from assistant.accounts.auth import AuthDb
from assistant.core.jobs import JobRunner, JobsBusy
from ingest.model import IngestError
from tests.conftest import CORPUS, SAMPLES

ASYNC = {"Prefer": "respond-async"}


def wait(runner_or_client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if isinstance(runner_or_client, JobRunner):
            job = runner_or_client.get(job_id).public()
        else:
            response = runner_or_client.get(f"/api/jobs/{job_id}")
            assert response.status_code == 200
            job = response.json()["job"]
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


# ---- the runner ----------------------------------------------------------------------------------

def test_runner_runs_at_most_its_workers_at_once_and_reports_progress():
    runner = JobRunner(workers=2)
    running, peak, lock = [0], [0], threading.Lock()

    def work(progress):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        progress("embed", 3, 4)
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return {"chunks": 4}

    jobs = [runner.submit("test", f"job {i}", work) for i in range(6)]
    finished = [wait(runner, j.id) for j in jobs]
    assert peak[0] == 2
    assert all(j["state"] == "done" and j["percent"] == 100 and j["chunks"] == 4 for j in finished)
    runner.shutdown()


def test_runner_keeps_failures_and_refuses_past_its_queue():
    runner = JobRunner(workers=1, max_waiting=2)
    gate = threading.Event()
    blocked = runner.submit("test", "blocked", lambda p: gate.wait(10) and {})
    time.sleep(0.1)  # the first job is running; the next two wait
    bad = runner.submit("test", "bad", lambda p: (_ for _ in ()).throw(IngestError("corrupt_pdf", "broken")))
    crash = runner.submit("test", "crash", lambda p: 1 / 0)
    with pytest.raises(JobsBusy):
        runner.submit("test", "one too many", lambda p: {})
    progress_seen = runner.get(blocked.id).public()
    assert progress_seen["state"] == "running" and progress_seen["stage"] == "parse"
    gate.set()
    assert wait(runner, bad.id)["error"] == {"code": "corrupt_pdf", "message": "broken", "status": 422}
    assert wait(runner, crash.id)["error"]["status"] == 500
    runner.shutdown()


# ---- uploads as jobs -----------------------------------------------------------------------------

@pytest.fixture()
def writable(fresh_services):
    from web.app import create_app

    with TestClient(create_app(fresh_services.settings, fresh_services)) as c:
        yield c, fresh_services


def upload(client, name: str, data: bytes, headers=ASYNC):
    return client.post("/api/documents", files={"file": (name, data, "application/octet-stream")}, headers=headers)


def test_upload_as_a_job_returns_at_once_then_the_document_is_searchable(writable):
    client, svc = writable
    data = (CORPUS / "udherrefyes-ngritja-funksionimi-kvsp.pdf").read_bytes()
    started = time.perf_counter()
    response = upload(client, "udherrefyes.pdf", data)
    elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.text
    assert elapsed < 1.0  # the parse and the embedding happen after the answer
    job = response.json()["job"]
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["state"] in ("queued", "running")
    finished = wait(client, job["id"])
    assert finished["state"] == "done", finished
    doc = finished["result"]["document"]
    assert finished["result"]["status"] == "added"
    assert finished["pages"] == doc["pages"] == 11 and finished["chunks"] == doc["chunks"] > 0
    assert [d["id"] for d in client.get("/api/documents").json()["documents"]] == [doc["id"]]
    hits = client.get("/api/search", params={"q": "ngritja dhe funksionimi i KVSP", "k": 3}).json()
    assert any(h["document_id"] == doc["id"] for h in hits["results"])

    again = wait(client, upload(client, "kopje.pdf", data).json()["job"]["id"])
    assert again["result"]["status"] == "unchanged"


@pytest.mark.parametrize("name, data, code, status", [
    ("foto.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "unsupported_type", 415),
    ("prishur.pdf", b"%PDF-1.7\n" + b"garbage" * 50, "corrupt_pdf", 422),
])
def test_a_failed_upload_job_says_why_and_stores_nothing(writable, name, data, code, status):
    client, _ = writable
    job = wait(client, upload(client, name, data).json()["job"]["id"])
    assert job["state"] == "failed" and job["result"] is None
    assert job["error"]["code"] == code and job["error"]["status"] == status
    assert client.get("/api/documents").json()["documents"] == []


def test_the_synchronous_upload_contract_is_unchanged(writable):
    client, _ = writable
    response = upload(client, "shenime.txt", (SAMPLES / "shenime-sekretari-gurras-2024-11-07.txt").read_bytes(),
                      headers={})
    assert response.status_code == 201 and response.json()["status"] == "added"


def test_unknown_job_is_404(writable):
    client, _ = writable
    assert client.get("/api/jobs/nope").json()["error"]["code"] == "not_found"


# ---- delete --------------------------------------------------------------------------------------

def test_delete_needs_admin_and_is_audited(writable):
    client, svc = writable
    doc = upload(client, "shenime.txt", (SAMPLES / "shenime-sekretari-gurras-2024-11-07.txt").read_bytes(),
                 headers={}).json()["document"]
    db = AuthDb(svc.database)
    db.add_user("admin-1", "admin", "a long enough password")
    db.add_user("sekretarja", "secretary", "a long enough password")
    secretary = {"Authorization": "Bearer " + db.new_token("sekretarja")}
    admin = {"Authorization": "Bearer " + db.new_token("admin-1")}

    assert client.delete(f"/api/documents/{doc['id']}", headers=secretary).status_code == 403
    assert client.delete(f"/api/documents/{doc['id']}", headers=admin).json() == {"deleted": doc["id"]}
    assert client.get("/api/documents", headers=admin).json()["documents"] == []
    [entry] = audit.entries(svc.database, action="document.delete")
    assert entry["actor"] == "admin-1" and entry["object_id"] == doc["id"]
    assert entry["details"]["filename"] == "shenime.txt"
    assert client.delete(f"/api/documents/{doc['id']}", headers=admin).status_code == 404
