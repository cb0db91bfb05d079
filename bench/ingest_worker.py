"""The ingest worker, warm or fresh per file: uploads as background jobs through the real app.

    .venv/bin/python bench/ingest_worker.py [--model-cache data] [--files corpus/a.pdf …]

For each way of running the worker (one warm process for every file, or a fresh process per file:
KVSP_INGEST_WORKER_FILES=20 or 1) the same files are uploaded one after another to an empty data
folder with `Prefer: respond-async`; the table gives the time until the job id came back, until the
job was done, and this (serving) process's RSS before and after. Prints markdown tables.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from assistant.core.settings import Settings  # noqa: E402
from web.app import build_services, create_app  # noqa: E402

DEFAULT_FILES = ("udherrefyes-ngritja-funksionimi-kvsp.pdf", "strategjia-sigurise-ne-komunitet-2021-2026.docx",
                 "plani-nderinstitucional-parandalimi-krimit-elbasan.docx",
                 "ftese-tryeze-diskutimi-kvsp-25-nentor-2021.docx")
MODES = (("warm worker (20 files)", 20), ("fresh worker per file", 1))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def upload(client: TestClient, path: Path) -> tuple[float, float, dict]:
    t0 = time.perf_counter()
    response = client.post("/api/documents", files={"file": (path.name, path.read_bytes())},
                           headers={"Prefer": "respond-async"})
    accepted = time.perf_counter() - t0
    job = response.json()["job"]
    while job["state"] in ("queued", "running"):
        time.sleep(0.05)
        job = client.get(f"/api/jobs/{job['id']}").json()["job"]
    return accepted, time.perf_counter() - t0, job


def run_mode(files: list[Path], worker_files: int, model_cache: Path | None) -> tuple[list[list[str]], float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        if model_cache and (model_cache / "models").is_dir():  # building the model folder is setup, not ingest
            (data_dir / "models").symlink_to((model_cache / "models").resolve())
        settings = Settings(data_dir=data_dir, ingest_worker_files=worker_files)
        services = build_services(settings)
        rows = []
        with TestClient(create_app(settings, services), base_url="http://localhost") as client:  # a local Host
            client.get("/api/search", params={"q": "siguria në komunitet"})
            before = rss_mb()
            for path in files:
                accepted, done, job = upload(client, path)
                rows.append([path.name[:48], str(job["chunks"]), f"{accepted * 1000:.0f}", f"{done:.1f}",
                             job["state"] if job["state"] == "done" else job["error"]["code"]])
            after = rss_mb()
        services.stop_workers()
        services.store.close()
    return rows, before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-cache", type=Path, default=ROOT / "data",
                        help="data folder whose models/ holds an already built embedding model")
    parser.add_argument("--files", type=Path, nargs="*")
    args = parser.parse_args()
    files = args.files or [ROOT / "corpus" / name for name in DEFAULT_FILES]
    for title, worker_files in MODES:
        rows, before, after = run_mode(files, worker_files, args.model_cache)
        total = sum(float(r[3]) for r in rows)
        print(f"\n### {title}: {total:.1f} s in all; serving process RSS {before:.0f} → {after:.0f} MB\n")
        print("| file | chunks | job id after (ms) | done after (s) | result |\n| --- | --- | --- | --- | --- |")
        for row in rows:
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
