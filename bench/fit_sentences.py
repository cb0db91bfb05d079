"""Fit the answer-sentence model (assistant/answers/sentence_evidence.py) on development questions.

    .venv/bin/python bench/fit_sentences.py [--data bench/out/realtexts-data] [--write]

Development questions only: tests/fixtures/eval/qa-dev.jsonl (asked of the bundled corpus alone, as
the product serves it: --corpus-data) and the split=dev half of bench/realtexts/questions-*.jsonl
(asked of the corpus and the real texts: --data, which bench/realtexts.py builds), in Albanian and in
English; each kind of writing weighs the same in the fit. For each answerable question the
candidate sentences of its retrieved passages are scored (sentence_evidence.FEATURES) and labelled
by whether they hold a gold quote, as quote_is_gold reads them. Per language a listwise model is
fitted: the softmax over one question's candidates, trained to put its weight on the gold ones
(L2, standardised features). Printed: the share of questions whose top sentence holds a gold
quote, the shipped model (assistant/data/sentence_model.json, what compose uses now) vs the one fitted now, on dev (5-fold by document, out of fold) and on the test half,
which is read only for this report and never for the fit. --write stores the weights in
assistant/data/sentence_model.json.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = ROOT / "assistant" / "data" / "sentence_model.json"
L2 = 0.05


def questions(split: str) -> list[dict]:
    load = lambda p: [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]  # noqa: E731
    items = [{**it, "split": "dev", "source": "corpus"} for it in load(ROOT / "tests/fixtures/eval/qa-dev.jsonl")
             ] if split == "dev" else []
    for path in sorted((ROOT / "bench/realtexts").glob("questions-*.jsonl")):
        items += [{**it, "source": "news"} for it in load(path) if it.get("split") == split]
    return [it for it in items if it["answerable"] and it["gold"]]


def corpus_services(data_dir: Path):
    """A data folder holding the bundled corpus only (built once, then reused)."""
    from assistant.core.ingestion import ingest_bytes, iter_files
    from assistant.core.settings import Settings
    from web.app import build_services

    svc = build_services(Settings(data_dir=data_dir, corpus_dir=ROOT / "corpus"))
    for path in iter_files([ROOT / "corpus"]):
        ingest_bytes(svc, path.name, path.read_bytes())  # unchanged files are skipped by their hash
    return svc


def merge(*parts: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {lang: [g for part in parts for g in part[lang]] for lang in ("sq", "en")}


def collect(services, items: list[dict]) -> dict[str, list[dict]]:
    """Per language, one group per question: its candidates' features, labels and hand-set scores."""
    from assistant.answers import compose as c
    from assistant.answers import sentence_evidence as se
    from assistant.evaluation.qa import any_quote

    groups = {"sq": [], "en": []}
    for it in items:
        golds = [g["quote"] for g in it["gold"]]
        for lang, question in (("sq", it["question"]), ("en", it.get("question_en"))):
            if not question:
                continue
            hits = services.retriever.search(question, k=c.DEFAULT_K, english=lang == "en")
            if not hits:
                continue
            texts = c.document_texts(services.store, hits)
            cands = c.candidates(hits, texts)
            try:
                weight = c.score(question, lang, hits, cands)  # the shipped model's choice, to compare
                shipped = [x.score for x in cands]
            except ValueError:  # the features changed since the model was written
                weight, shipped = c.cover(question, lang, hits, cands), [0.0] * len(cands)
            feats = se.features(question, lang, cands, hits, weight, c.focus_terms(question, lang), c._incomplete)
            labels = [any_quote(golds, texts[x.document_id][x.start:x.end]) for x in cands]
            groups[lang].append({"id": it["id"], "source": it["source"],
                                 "doc": it.get("document") or it["gold"][0].get("document", ""),
                                 "X": np.array([[f[k] for k in se.FEATURES] for f in feats], dtype=float),
                                 "y": np.array(labels, dtype=float), "shipped": np.array(shipped)})
    return groups


def fit(groups: list[dict], steps: int = 600, lr: float = 0.3) -> dict:
    X = np.vstack([g["X"] for g in groups])
    mean, std = X.mean(0), X.std(0)
    std[std < 1e-9] = 1.0
    kept = [g for g in groups if g["y"].any()]
    # each kind of writing weighs the same: the bundled strategy and regulation as much as the news
    share = {src: sum(g["source"] == src for g in kept) for src in {g["source"] for g in kept}}
    train = [((g["X"] - mean) / std, g["y"], 1 / (len(share) * share[g["source"]])) for g in kept]
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        grad = L2 * w
        for Z, y, weight in train:
            z = Z @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            q = p * y / (p * y).sum()
            grad += weight * (Z.T @ (p - q))
        w -= lr * grad
    return {"weights": [round(float(x), 4) for x in w], "mean": [round(float(x), 4) for x in mean],
            "std": [round(float(x), 4) for x in std]}


def top_is_gold(groups: list[dict], params: dict | None) -> float:
    """Share of the groups whose best candidate holds a gold quote (params None: the shipped model's)."""
    if not groups:
        return float("nan")
    hits = 0
    for g in groups:
        if params is None:
            s = g["shipped"]
        else:
            s = ((g["X"] - np.array(params["mean"])) / np.array(params["std"])) @ np.array(params["weights"])
        hits += bool(len(s)) and bool(g["y"][int(np.argmax(s))])
    return hits / len(groups)


def out_of_fold(groups: list[dict], folds: int = 5) -> float:
    docs = sorted({g["doc"] for g in groups})
    fold_of = {d: i % folds for i, d in enumerate(docs)}
    hits = 0.0
    for k in range(folds):
        held = [g for g in groups if fold_of[g["doc"]] == k]
        if held:
            hits += top_is_gold(held, fit([g for g in groups if fold_of[g["doc"]] != k])) * len(held)
    return hits / len(groups)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "out" / "realtexts-data")
    ap.add_argument("--corpus-data", type=Path, default=ROOT / "bench" / "out" / "corpus-data")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    from bench.realtexts import services_for

    # each question over the index it is asked of: the bundled corpus's questions over the corpus
    # alone (as the product serves it), the real texts' over the corpus and the real texts
    news, corpus = services_for(args.data), corpus_services(args.corpus_data)
    items = questions("dev")
    dev = merge(collect(corpus, [it for it in items if it["source"] == "corpus"]),
                collect(news, [it for it in items if it["source"] == "news"]))
    test = collect(news, questions("test"))
    model = {}
    print(f"{'lang':<4} {'set':<10} {'groups':>6} {'any gold':>8} {'shipped':>8} {'fitted':>8}")
    for lang in ("sq", "en"):
        model[lang] = fit(dev[lang])
        corpus = [g for g in dev[lang] if g["source"] == "corpus"]
        for name, groups, fitted in (("dev (oof)", dev[lang], out_of_fold(dev[lang])),
                                     ("dev corpus", corpus, top_is_gold(corpus, model[lang])),
                                     ("test", test[lang], top_is_gold(test[lang], model[lang]))):
            reach = sum(bool(g["y"].any()) for g in groups) / max(1, len(groups))
            print(f"{lang:<4} {name:<10} {len(groups):>6} {reach:>8.2f} {top_is_gold(groups, None):>8.2f} {fitted:>8.2f}")
    from assistant.answers.sentence_evidence import FEATURES

    for lang in ("sq", "en"):
        print(lang, " ".join(f"{f}={w:+.2f}" for f, w in zip(FEATURES, model[lang]["weights"])))
    if args.write:
        model["_about"] = ("Listwise logistic weights over sentence_evidence.FEATURES (standardised), fitted by "
                           "bench/fit_sentences.py on qa-dev and the dev half of bench/realtexts.")
        MODEL.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
