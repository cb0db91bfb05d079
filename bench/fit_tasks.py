"""Fit the sentence reader's weights (assistant/meetings/prose_tasks.py) on the style zoo, and score them
leave one style out next to the hand-set weights.

    python bench/fit_tasks.py [--write]

Labels come from the zoo gold: a sentence the reader scores (actions.prose_evidence) is positive when a
gold action item's source quote or action matches it (the harness's fuzzy match), negative otherwise;
sentences matching an acceptable extra are left out. Each file (style) weighs the same in a fit, however
many sentences it has. The model is a logistic regression over the
binary features (L2 pulling the weights towards the hand-set ones, not the bias), so the extractor's rule "score > 0" is "p > 0.5".

Leave one style out: every file of tests/fixtures/zoo and its published/ reports is one style; each is
scored (actions, as shared/eval/run_extract.py scores them) with weights fitted on the other files
only. The hand-set weights are scored as they stand. --write fits on every file and stores the fit in
assistant/data/task_weights.json, with "use" naming whichever set has the better leave-one-style-out F1.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ZOO = ROOT / "tests" / "fixtures" / "zoo"
TUNED = {"published": {"report-01", "report-02", "report-03"}}  # the other published reports are held out
# gathered after the rules were written, gold written before the extractor ran: never fitted on, only scored
NEVER_FITTED = {"report-06", "report-07", "report-08", "report-09",
                "report-10", "report-11", "report-12", "report-13", "report-14", "report-15"}
L2 = 1.0


def zoo_files() -> list[tuple[Path, dict]]:
    """(text file, gold) of every file with action gold, zoo first, then the published reports."""
    out = []
    for folder in (ZOO, ZOO / "published"):
        for gpath in sorted(folder.glob("*.txt.gold.json")):
            gold = json.loads(gpath.read_text(encoding="utf-8"))
            if "action_items" in gold:
                out.append((gpath.with_name(gpath.name[: -len(".gold.json")]), gold))
    return out


def half(path: Path) -> str:
    """'a' for the tuning half (manifest-a, report-01..03), 'b' for the held-out half, 'c' for the reports
    never fitted on."""
    if path.name[:9] in NEVER_FITTED:
        return "c"
    if path.parent.name == "published":
        return "a" if path.name[:9] in TUNED["published"] else "b"
    tuned = {e["file"] for e in json.loads((ZOO / "manifest-a.json").read_text(encoding="utf-8"))}
    return "a" if path.name in tuned else "b"


def labelled(path: Path, gold: dict) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of the sentences the reader scores in one file."""
    from assistant.evaluation.extract import fuzzy
    from assistant.meetings.actions import prose_evidence
    from assistant.meetings.prose_tasks import FEATURES

    def hit(sentence: str, items: list[dict]) -> bool:
        return any(fuzzy(sentence, g.get("source_quote")) or fuzzy(sentence, g.get("action")) for g in items)
    rows, labels = [], []
    for sentence, ev in prose_evidence(path.read_text(encoding="utf-8")):
        positive = hit(sentence.text, gold["action_items"])
        if not positive and hit(sentence.text, gold.get("acceptable_extra_actions", [])):
            continue
        rows.append([float(ev.features[k]) for k in FEATURES])
        labels.append(float(positive))
    return np.array(rows).reshape(-1, len(FEATURES)), np.array(labels)


def stacked(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, labels and weights of several files, each file (style) weighing the same in the fit: a long file
    of dated notes must not teach that a task always has a date to the one-paragraph report."""
    parts = [(X, y) for X, y in parts if len(y)]
    weights = np.concatenate([np.full(len(y), 1.0 / len(y)) for _, y in parts])
    return (np.vstack([X for X, _ in parts]), np.concatenate([y for _, y in parts]),
            weights * len(weights) / weights.sum())


def fit(X: np.ndarray, y: np.ndarray, prior: dict[str, float], steps: int = 4000, rate: float = 0.5,
        sample_weight: np.ndarray | None = None) -> dict[str, float]:
    """Logistic regression by gradient descent; the weights by feature name, and 'bias'. The L2 penalty pulls
    each weight towards its hand-set value, not towards 0: a cue seen in three sentences (a wish, an offer)
    keeps the sign and size a reader of Albanian gave it unless the labels say otherwise."""
    from assistant.meetings.prose_tasks import FEATURES
    w0 = np.array([prior[k] for k in FEATURES])
    w, b = w0.copy(), prior["bias"]
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        g = (p - y) * (sample_weight if sample_weight is not None else 1.0)
        w -= rate * (X.T @ g / len(y) + L2 * (w - w0) / len(y))
        b -= rate * float(np.mean(g))
    return {**{k: round(float(v), 3) for k, v in zip(FEATURES, w)}, "bias": round(b, 3)}


def score_file(path: Path, gold: dict, weights: dict[str, float]) -> dict:
    from assistant.evaluation.extract import score_actions
    from assistant.meetings.actions import extract_actions
    items = [a.to_dict() for a in extract_actions(path.read_text(encoding="utf-8"), weights=weights)]
    return {"file": path.name, **score_actions(gold, items)}


def hand_set() -> dict[str, float]:
    from assistant.meetings.prose_tasks import WEIGHTS_FILE
    return json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))["hand_set"]


def loso(files, data) -> tuple[list[dict], list[dict]]:
    """Per-file counts with weights fitted without that file; and with the hand-set weights."""
    hand = hand_set()
    fitted, handset = [], []
    for i, (path, gold) in enumerate(files):
        train = [j for j in range(len(files)) if j != i and half(files[j][0]) != "c"]
        X, y, weight = stacked([data[j] for j in train])
        fitted.append(score_file(path, gold, fit(X, y, hand, sample_weight=weight)))
        handset.append(score_file(path, gold, hand))
    return fitted, handset


def show(files, fitted: list[dict], handset: list[dict]) -> dict[str, float]:
    from assistant.evaluation.extract import figures_actions
    sys.path.insert(0, str(ROOT / "bench"))
    from zoo import fmt, per_file, table

    rows = [["file", "half", "gold", "F1 hand", "owner", "due", "F1 fitted", "owner", "due", "distr."]]
    for (path, _), f, h in zip(files, fitted, handset):
        a, b = per_file("actions", h), per_file("actions", f)
        rows.append([path.name[:30], half(path), str(f["gold"]), *(fmt(a[k]) for k in ("f1", "owner_accuracy",
                     "due_accuracy")), *(fmt(b[k]) for k in ("f1", "owner_accuracy", "due_accuracy")), str(len(f["distractor_hits"]))])
    totals = {}
    groups = {"tuning half": "a", "held-out half": "b", "never fitted": "c", "all": None,
              "zoo notes+minutes": "zoo", "published reports": "published"}
    for name, which in groups.items():
        keep = [i for i, (p, _) in enumerate(files) if which in (half(p), p.parent.name)
                or (which is None and half(p) != "c")]
        if not keep:
            continue
        th = figures_actions([handset[i] for i in keep])
        tf = figures_actions([fitted[i] for i in keep])
        rows.append([f"total {name}", which or "a+b", str(th["gold"]), *(fmt(th[k]) for k in ("f1", "owner_accuracy",
                     "due_accuracy")), *(fmt(tf[k]) for k in ("f1", "owner_accuracy", "due_accuracy")), str(tf["distractor_hits"])])
        totals[name] = (th["f1"], tf["f1"])  # "all" leaves out the 'c' reports: the choice never sees them
    print(table(rows))
    return {"hand_set": totals["all"][0], "fitted": totals["all"][1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="store the fit on every file in task_weights.json")
    args = ap.parse_args()
    from assistant.meetings.prose_tasks import WEIGHTS_FILE

    files = zoo_files()
    data = [labelled(path, gold) for path, gold in files]
    print(f"{sum(len(y) for _, y in data)} sentences, {int(sum(y.sum() for _, y in data))} positive, "
          f"{len(files)} files (styles)\n")
    f1 = show(files, *loso(files, data))
    X, y, weight = stacked([d for (path, _), d in zip(files, data) if half(path) != "c"])
    everything = fit(X, y, hand_set(), sample_weight=weight)
    print("\nfitted on every file: " + ", ".join(f"{k} {v:+.2f}" for k, v in everything.items()))
    best = max(f1, key=f1.get)
    print(f"leave-one-style-out F1: hand-set {f1['hand_set']:.3f}, fitted {f1['fitted']:.3f} -> use {best}")
    if args.write:
        stored = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
        stored.update({"use": best, "fitted": everything})
        WEIGHTS_FILE.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
