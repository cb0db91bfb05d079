"""How long the offline path takes for one meeting: notes -> structured meeting + action items ->
procesverbal text -> Word file. Prints a markdown table (the README shows it).

    .venv/bin/python bench/minutes_speed.py [NOTES.txt …] [--repeat 20]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.meetings.minutes import draft_docx, prepare  # noqa: E402

SAMPLES = ROOT / "tests" / "fixtures" / "samples"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("notes", nargs="*", type=Path, default=sorted(SAMPLES.glob("shenime-sekretari-*.txt")))
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    print("| notes | lines | draft p50 (ms) | draft + .docx p50 (ms) | max (ms) |\n| --- | --- | --- | --- | --- |")
    for path in args.notes:
        notes = path.read_text(encoding="utf-8")
        prepare(notes)  # warm-up: data files and templates load once per process
        draft_ms, total_ms = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            meeting, actions, _ = prepare(notes)
            t1 = time.perf_counter()
            draft_docx(meeting, actions)
            t2 = time.perf_counter()
            draft_ms.append((t1 - t0) * 1000)
            total_ms.append((t2 - t0) * 1000)
        print(f"| {path.name} | {len(notes.splitlines())} | {statistics.median(draft_ms):.0f} | "
              f"{statistics.median(total_ms):.0f} | {max(total_ms):.0f} |")


if __name__ == "__main__":
    main()
