"""The style zoo (tests/fixtures/zoo and its published/ reports): minutes fields, action items and
plan proposals per file and per style, scored as shared/eval/run_extract.py scores them
(assistant/evaluation/extract.py) through the in-process HTTP API.

Every file of the zoo is one style (its manifest line). This script scores the extractors as they
ship: rules written by hand as they stand, fitted weights as stored (the sentence reader's are fitted on
every file but the reports bench/fit_tasks.py never fits on). The leave-one-style-out table of action
items, each file scored with weights fitted without it, is bench/fit_tasks.py's.

Styles marked "held_out" in their manifest (set C) were written and scored without tuning on them; their
total is printed apart.

Usage: python bench/zoo.py [--only actions,minutes,propose] [--json OUT]
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ZOO = ROOT / "tests" / "fixtures" / "zoo"
FOLDERS = (ZOO, ZOO / "published")
SHOWN = {
    "actions": ("gold", "predicted", "matched", "precision", "recall", "f1", "owner_accuracy", "due_accuracy"),
    "minutes": ("date", "start_time", "end_time", "meeting_number", "chair", "secretary", "place", "attendance_f1",
                "agenda_recall", "decisions_recall", "deferred_recall", "invented_names"),
    "propose": ("concerns", "rows", "found", "concern_recall", "priority_accuracy"),
}
HEAD = {"meeting_number": "nr", "start_time": "start", "end_time": "end", "secretary": "secr.", "attendance_f1": "attend",
        "agenda_recall": "agenda", "decisions_recall": "decis.", "deferred_recall": "defer.", "invented_names": "invented",
        "precision": "P", "recall": "R", "f1": "F1", "owner_accuracy": "owner", "due_accuracy": "due",
        "predicted": "pred", "concern_recall": "recall", "priority_accuracy": "priority"}


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def per_file(task: str, f: dict) -> dict:
    """The summary figures of one file's counts (the summary of the whole set is the harness's)."""
    if task == "actions":
        p, r = ratio(f["matched"], f["predicted"]), ratio(f["matched"], f["gold"])
        f1 = 2 * p * r / (p + r) if p and r else (0.0 if f["gold"] else None)
        return {**f, "precision": p, "recall": r, "f1": f1, "owner_accuracy": ratio(f["owner_ok"], f["matched"]),
                "due_accuracy": ratio(f["due_ok"], f["matched"])}
    if task == "minutes":
        tp, n_pred, n_gold = (sum(f["people"][k][i] for k in f["people"]) for i in range(3))
        p, r = ratio(tp, n_pred), ratio(tp, n_gold)
        lines = {f"{k}_recall": ratio(*f["lines"][k]) for k in f["lines"]}
        return {**f["exact"], **f["fuzzy"], **lines, "invented_names": f["invented"],
                "attendance_f1": (2 * p * r / (p + r) if p and r else 0.0) if n_gold else None}
    return {**f, "concern_recall": ratio(f["found"], f["concerns"]), "priority_accuracy": ratio(f["priority_ok"], f["found"])}


def manifest() -> list[dict]:
    return [entry for path in sorted(ZOO.glob("manifest-*.json")) for entry in json.loads(path.read_text(encoding="utf-8"))]


def styles() -> dict[str, str]:
    return {entry["file"]: entry["style"] for entry in manifest()}


def held_out() -> set[str]:
    """Styles kept out of every tuning step (manifest "held_out": true): their total is shown apart."""
    return {entry["file"] for entry in manifest() if entry.get("held_out")}


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return str(len(value))
    return str(value)


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def run(only: tuple[str, ...]) -> dict:
    from fastapi.testclient import TestClient

    from assistant.core.settings import Settings
    from assistant.evaluation.extract import run_extract
    from web.app import build_services, create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), corpus_dir=Path(tmp) / "none")
        app = create_app(settings, build_services(settings))
        with TestClient(app, base_url="http://localhost") as client:  # the Host guard serves local names
            return {folder.name: run_extract(folder, client, only=only) for folder in FOLDERS}


def main() -> None:
    from assistant.evaluation.extract import FIGURES

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="actions,minutes,propose")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    only = tuple(args.only.split(","))
    results = run(only)
    style_of = styles()
    for task in only:
        rows = [["file", "style", *(HEAD.get(k, k) for k in SHOWN[task])]]
        for folder, result in results.items():
            for f in result["files"].get(task, []):
                figures = per_file(task, f)
                rows.append([f["file"][:30], (style_of.get(f["file"]) or folder)[:24],
                             *(fmt(figures.get(k)) for k in SHOWN[task])])
        print(f"\n## {task}\n")
        print(table(rows))
        for folder, result in results.items():
            summary = result["summary"].get(task)
            if summary and summary.get("files"):
                print(f"\n{folder} total: " + ", ".join(f"{k} {fmt(v)}" for k, v in summary.items()
                                                           if k in SHOWN[task] or k in ("files", "matched")))
        apart = [f for f in results[ZOO.name]["files"].get(task, []) if f["file"] in held_out()]
        if apart:
            summary = {"files": len(apart), **FIGURES[task](apart)}
            print("\nheld-out styles total: " + ", ".join(f"{k} {fmt(v)}" for k, v in summary.items()
                                                         if k in SHOWN[task] or k in ("files", "matched")))
    errors = [e for r in results.values() for e in r["errors"]]
    if errors:
        print("\nerrors:\n" + "\n".join(errors[:20]))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
