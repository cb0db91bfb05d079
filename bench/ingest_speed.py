"""Ingest benchmark: cold ingest of corpus/, unchanged re-ingest, search latency over the dev questions.

    .venv/bin/python bench/ingest_speed.py [--corpus corpus] [--questions tests/fixtures/eval/qa-dev.jsonl]

Prints a markdown table (the README shows it). Peak RSS is the process's maximum resident size.
"""
import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core.ingestion import ingest_bytes, iter_files  # noqa: E402
from assistant.core.settings import Settings  # noqa: E402
from web.app import build_services  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
        ("peak RSS during ingest (MB)", f"{rss_ingest:.0f}"),
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
