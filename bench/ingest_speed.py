"""Ingest benchmark: cold ingest of corpus/, unchanged re-ingest, search latency over the dev questions.

    .venv/bin/python bench/ingest_speed.py [--corpus corpus] [--questions tests/fixtures/eval/qa-dev.jsonl]

Prints a markdown table (the README shows it). Files are parsed and embedded in the ingest worker
(a child process), so peak RSS is reported for this process, for its children (sampled every
0.1 s from /proc) and for the two together.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core.ingestion import ingest_bytes, iter_files  # noqa: E402
from assistant.core.settings import Settings  # noqa: E402
from web.app import build_services  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb(pid: str) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def descendants(root: int) -> list[str]:
    """Every live process below `root`, from the parent ids in /proc."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[entry.name] = stat[stat.rindex(")") + 2:].split()[1]
    found, frontier = [], [str(root)]
    while frontier:
        pid = frontier.pop()
        kids = [child for child, ppid in parent.items() if ppid == pid]
        found += kids
        frontier += kids
    return found


class PeakSampler:
    """Peak RSS of this process's children and of the whole tree, sampled in a thread."""

    def __init__(self, every: float = 0.1):
        self.every, self.children, self.total = every, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            children = sum(_rss_mb(pid) for pid in descendants(me))
            self.children = max(self.children, children)
            self.total = max(self.total, children + _rss_mb(str(me)))
            self._stop.wait(self.every)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def ingest_all(svc, files):
    t0 = time.perf_counter()
    results = [ingest_bytes(svc, f.name, f.read_bytes()) for f in files]
    return time.perf_counter() - t0, results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--questions", type=Path, default=ROOT / "tests/fixtures/eval/qa-dev.jsonl")
    ap.add_argument("--model-cache", type=Path, default=ROOT / "data",
                    help="data folder whose models/ holds an already built embedding model (not timed)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        models = args.model_cache / "models"
        if models.is_dir():  # reuse the built model folder: building it is setup, not ingest
            (data_dir / "models").symlink_to(models.resolve())
        t_load = time.perf_counter()
        svc = build_services(Settings(data_dir=data_dir, corpus_dir=args.corpus))
        load_s = time.perf_counter() - t_load
        files = iter_files([args.corpus])
        with PeakSampler() as sampled:
            cold_s, results = ingest_all(svc, files)
        pages = sum(r.document.pages for r in results)
        chunks = sum(r.document.chunks for r in results)
        rss_ingest = peak_rss_mb()
        warm_s, again = ingest_all(svc, files)
        created = sum(1 for r in again if r.status != "unchanged")

        questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line]
        texts = [q["question"] for q in questions] + [q["question_en"] for q in questions]
        svc.retriever.search(texts[0], k=5)  # warm-up
        latencies = []
        for text in texts:
            t0 = time.perf_counter()
            svc.retriever.search(text, k=5)
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]

    rows = [
        ("model load (s)", f"{load_s:.1f}"),
        ("cold ingest of corpus/ (s)", f"{cold_s:.1f}"),
        ("documents / pages / chunks", f"{len(results)} / {pages} / {chunks}"),
        ("pages per second", f"{pages / cold_s:.2f}"),
        ("peak RSS during ingest, this process (MB)", f"{rss_ingest:.0f}"),
        ("peak RSS during ingest, worker processes (MB, sampled)", f"{sampled.children:.0f}"),
        ("peak RSS during ingest, both together (MB, sampled)", f"{sampled.total:.0f}"),
        ("unchanged re-ingest (s)", f"{warm_s:.2f}"),
        ("documents created by re-ingest", str(created)),
        (f"search p50 / p95 over {len(texts)} questions (ms)",
         f"{statistics.median(latencies):.1f} / {p95:.1f}"),
    ]
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
