"""How well the retrieved sentences support an answer, as one calibrated probability.

The features of a question and its best candidate sentence are measured here; a small
logistic model per question language (weights in assistant/data/abstain_model.json, fitted
with cross-validation on development questions by bench/calibrate_abstain.py) turns them into
the probability that the documents answer the question. The answer abstains below the
model's threshold: no single word vetoes an answer.
"""
import json
import math
import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
FEATURES = ("coverage", "best_names", "names_known", "dense", "known", "rare_held", "sentence_dense", "words_held",
            "sentence_names", "asked_held")


def features(coverage: float, question_names: list[str], passage_tokens: frozenset[str] | set[str],
             unknown: list[str], dense: float | None, known: float | None,
             weight: dict[str, float] | None = None, sentence_dense: float | None = None,
             word_groups: list[frozenset[str]] = (), sentence_tokens: frozenset[str] = frozenset(),
             asked_held: bool | None = None) -> dict[str, float]:
    """coverage: IDF-weighted share of the question's terms in the best sentence; best_names:
    share of the question's names and numbers held by that sentence's passage (1.0 when it
    names none); names_known: share of them some stored passage holds; dense: the top passage's
    cosine; known: of an English question, the share of its words the documents know;
    rare_held: whether the passage holds the question's rarest term (the one that says what is
    asked, "hectares", "budget"), as the share of that term's IDF weight it holds;
    sentence_dense: the best sentence's own cosine to the question (the same e5 model: it reads
    an English question against Albanian text as well as an Albanian one); words_held: the share
    of the question's content words (each with its translations, `word_groups`) the passage holds,
    unweighted, so a question made of words the passage does not say scores low in either language;
    sentence_names: share of the question's names and numbers the best sentence itself holds;
    asked_held: whether that sentence holds what the question word asks for (a date for "kur /
    when", a number for "sa / how many", ...; None: the question asks for no such thing)."""
    names = set(question_names)
    weight = weight or {}
    top = max(weight.values(), default=0.0)
    rare = [t for t, w in weight.items() if w >= top - 1e-9]
    rare_held = sum(t in passage_tokens for t in rare) / len(rare) if rare else 1.0
    held = sum(bool(g & passage_tokens) for g in word_groups) / len(word_groups) if word_groups else 0.0
    return {
        "coverage": round(coverage, 4),
        "best_names": round(len(names & set(passage_tokens)) / len(names), 4) if names else 1.0,
        "names_known": round(1 - len(set(unknown) & names) / len(names), 4) if names else 1.0,
        "dense": None if dense is None else round(dense, 4),  # lexical-only hits: unknown
        "known": round(coverage if known is None else known, 4),
        "rare_held": round(rare_held, 4),
        "sentence_dense": None if sentence_dense is None else round(sentence_dense, 4),
        "words_held": round(held, 4),
        "sentence_names": round(len(names & sentence_tokens) / len(names), 4) if names else 1.0,
        "asked_held": 1.0 if asked_held is None else float(asked_held),
    }


@lru_cache
def model() -> dict:
    return json.loads((DATA / "abstain_model.json").read_text(encoding="utf-8"))


def probability(lang: str, feats: dict[str, float], params: dict | None = None) -> float:
    """A feature that could not be measured (None) counts as its development mean."""
    p = (params or model())[lang]
    if len(p["weights"]) != len(FEATURES):
        raise ValueError("abstain_model.json does not match FEATURES: refit with bench/calibrate_abstain.py --write")
    z = p["bias"] + sum(w * (feats[f] - m) / s for f, w, m, s in zip(FEATURES, p["weights"], p["mean"], p["std"])
                        if feats.get(f) is not None)
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def threshold(lang: str) -> float:
    return model()[lang]["threshold"]


def number_terms(question: str) -> list[str]:
    """Numbers a question names (years, counts, article numbers) as they are indexed."""
    return re.findall(r"\d+", question)
