"""Answers on real published texts: the bundled corpus plus bench/realtexts/docs (news and
notices about KVSP / KKSB meetings), questions in bench/realtexts/questions-*.jsonl split by
document into dev (tune) and test (report); a follow-up is asked with its conversation's earlier
questions (`history`), as the chat page sends them (--no-history: alone). Prints hit@5, answer_cites_gold, quote_is_gold,
false abstention and unanswerable refused per split and language, scored as
shared/eval/run_qa.py scores them (assistant/evaluation/qa.py), through the same in-process
answer path as `/api/ask`.

Usage: python bench/realtexts.py [--data DIR] [--split dev|test|both] [--json OUT]
The data folder is built once (default bench/out/realtexts-data) and reused.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HERE = ROOT / "bench" / "realtexts"
METRICS = ("n_answerable", "hit@5", "answer_cites_gold", "quote_is_gold", "false_abstain", "n_unanswerable",
           "correct_abstain")


def load(split: str) -> list[dict]:
    items = []
    for path in sorted(HERE.glob("questions-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if split in ("both", item.get("split")):
                    items.append(item)
    return items


def services_for(data_dir: Path):
    from assistant.core.ingestion import ingest_bytes, iter_files
    from assistant.core.settings import Settings
    from web.app import build_services

    svc = build_services(Settings(data_dir=data_dir, corpus_dir=ROOT / "corpus"))
    for path in iter_files([ROOT / "corpus", HERE / "docs"]):
        ingest_bytes(svc, path.name, path.read_bytes())  # unchanged files are skipped by their hash
    return svc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "out" / "realtexts-data")
    ap.add_argument("--split", default="both", choices=("dev", "test", "both"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-history", action="store_true", help="ask follow-ups without their earlier questions")
    args = ap.parse_args()

    from assistant.evaluation.qa import run_qa, summarize
    from web.cli.evaluate import inprocess_qa

    svc = services_for(args.data)
    search, ask_one = inprocess_qa(svc)
    # a follow-up is asked as the chat page asks it: with the conversation's earlier questions
    history = {}
    for it in load("both"):
        history[it["question"]] = tuple(h["question"] for h in it.get("history", []))
        if it.get("question_en"):
            history[it["question_en"]] = tuple(h["question"] for h in it.get("history_en", []))
    ask = (lambda q: ask_one(q, history.get(q, ()))) if not args.no_history else ask_one
    out = {}
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    for split in splits:
        items = load(split)
        out[split] = summarize(run_qa(items, search, ask, k=5))
    print(f"{'split':<6} {'lang':<4} " + " ".join(f"{m:>17}" for m in METRICS))
    for split, summary in out.items():
        for lang in ("sq", "en"):
            s = summary[lang]
            print(f"{split:<6} {lang:<4} " + " ".join(f"{s[m] if s[m] is not None else '-':>17}" for m in METRICS))
    for split, summary in out.items():
        lat = summary["latency_ms"]
        print(f"{split}: ask p50/p95 {lat['ask_p50']}/{lat['ask_p95']} ms, errors {summary['errors']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
