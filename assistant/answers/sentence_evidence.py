"""Which sentence answers the question: evidence measured per candidate sentence, weighed by a
logistic model fitted on development questions (bench/fit_sentences.py writes
assistant/data/sentence_model.json), instead of one hand-set product of coverage and length.

Evidence: how much of the question the sentence holds (IDF-weighted, in order, near it), how its
passage ranked, its form (a heading, a reference, a list's lead-in), and whether it holds what the
question asks for: a date for "kur / when", a number for "sa / how many", a person or body for
"kush / who", a place for "ku / where". Pure: candidates in, probabilities out.
"""
import json
import math
import re
from functools import lru_cache
from pathlib import Path

from assistant.meetings.dates import MONTHS as ALBANIAN_MONTHS, MONTHS_EN
from assistant.search.albanian import fold, lexical_tokens

DATA = Path(__file__).resolve().parents[1] / "data"
FEATURES = ("coverage", "own_coverage", "coverage_share", "bigrams", "rel", "rank", "length", "novelty",
            "form", "incomplete", "asked_held", "asked_missing", "opens_passage", "focus_held", "headline",
            "opens_document", "rarest_held", "log_coverage", "log_length", "log_rel")

# The question word says what kind of thing answers it (closed-class words of both languages).
ASKED = {
    "when": r"\bkur\b|\b(?:ne|me)\s+c(?:il|fa)[a-z]*\s+(?:date|dite|vit|muaj|kohe)|\bwhen\b|\bwhat\s+(?:date|day|year|month)\b",
    "count": r"\bsa\b|\bsa\s+(?:here|vjet|dite)|\bhow\s+(?:many|much|often|long)\b|\bnumri\b|\bnumber\s+of\b",
    "who": r"\bkush\b|\bkujt\b|\bkend\b|\bc(?:il|fa)(?:a|i|en|in|et|at)\s+(?:institucion|organizat|person|zyrtar|drejtor|kryetar|anetar)"
           r"|\bwho\b|\bwhom\b|\bwhose\b|\bwhich\s+(?:institution|organi[sz]ation|body|official|person|ministry)",
    "where": r"\bku\b|\bne\s+c(?:il|fa)[a-z]*\s+(?:vend|qytet|bashki|komun|salle|zone)|\bwhere\b|\bin\s+which\s+(?:town|city|municipality|place)",
}
MONTHS = "|".join(ALBANIAN_MONTHS + MONTHS_EN)  # folded text: "nentor"
HELD = {
    "when": re.compile(rf"\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b|\b(?:{MONTHS})\w*\b|\b(?:19|20)\d\d\b|\bor(?:a|en)\s+\d"),
    "count": re.compile(r"\d|\b(?:nje|dy|tre|tri|kater|pese|gjashte|shtate|tete|nente|dhjete|njezet|qind|mije)\b"),
}
PERSON = re.compile(r"\b[A-ZËÇ][a-zëç]*\.\s*[A-ZËÇ][a-zëç]+|\b(?:z|zj|znj|zt)\.\s*[A-ZËÇ]|"
                    r"\b[A-ZËÇ][a-zëç]+\s+[A-ZËÇ][a-zëç]+|\b[A-ZËÇ]{2,}\b")
PLACE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZËÇ][a-zëç]{2,}")


def asked(question: str) -> str | None:
    f = fold(question)
    return next((kind for kind, pattern in ASKED.items() if re.search(pattern, f)), None)


def holds(kind: str, text: str) -> bool:
    if kind == "who":
        return bool(PERSON.search(text))
    if kind == "where":
        return bool(PLACE.search(text.strip()))
    return bool(HELD[kind].search(fold(text)))


def _bigrams(tokens: list[str]) -> set[tuple[str, str]]:
    return set(zip(tokens, tokens[1:]))


def features(question: str, lang: str, cands, hits, weight: dict[str, float], focus: list[frozenset[str]],
             incomplete) -> list[dict[str, float]]:
    """One feature dict per candidate (coverage already filled by compose.score). `focus`: the stems of
    the question's first content words, what it asks about ("Cila organizatë …", "Kush ishte kryetari …");
    `incomplete`: compose's test for a heading or a list's lead-in."""
    if not cands:
        return []
    top = max(weight.values(), default=0.0)
    rarest = [t for t, w in weight.items() if w >= top - 1e-9]
    total = sum(weight.values()) or 1.0
    top_cov = max(c.coverage for c in cands) or 1.0
    lo, hi = min(h.score for h in hits), max(h.score for h in hits)
    kind = asked(question)
    q_pairs = _bigrams(lexical_tokens(question)) if lang != "en" else set()
    out = []
    for c in cands:
        own = sum(w for t, w in weight.items() if t in c.tokens) / total
        ordered = lexical_tokens(c.text)
        novel = len(set(ordered) - set(weight)) / max(1, len(set(ordered)))
        chunk = hits[c.hit_rank].chunk
        rel = (hits[c.hit_rank].score - lo) / (hi - lo) if hi > lo else 1.0
        out.append({
            "coverage": c.coverage,
            "own_coverage": own,
            "coverage_share": c.coverage / top_cov,
            "bigrams": len(q_pairs & _bigrams(ordered)) / len(q_pairs) if q_pairs else 0.0,
            "rel": rel,
            "rank": 1 / (1 + c.hit_rank),
            "length": math.log1p(len(ordered)),
            "novelty": novel,
            "form": float(_reference_or_title(c.text)),
            "incomplete": float(incomplete(c.text)),
            "asked_held": float(bool(kind) and holds(kind, c.text)),
            "asked_missing": float(bool(kind) and not holds(kind, c.text)),
            "opens_passage": float(c.start <= chunk.start + 5),
            "focus_held": sum(bool(g & c.tokens) for g in focus) / len(focus) if focus else 0.0,
            "headline": float(not re.search(r"[.!?;:…]\W{0,3}$", c.text.strip())),  # a title, a byline
            "opens_document": float(c.start < 3),
            "rarest_held": sum(t in c.tokens for t in rarest) / len(rarest) if rarest else 0.0,
            # the same evidence on a log scale: a sentence holding a third of the question is far
            # weaker than one holding all of it, not a little (what a product of the parts says)
            "log_coverage": math.log(c.coverage + 0.01),
            "log_length": math.log(20 / max(20, len(c.tokens))),
            "log_rel": math.log(0.7 + 0.3 * rel),
        })
    return out


def _reference_or_title(text: str) -> bool:
    """References (URLs, page citations) and all-capital titles rarely answer anything."""
    letters = [ch for ch in text if ch.isalpha()]
    shouting = bool(letters) and sum(ch.isupper() for ch in letters) > 0.6 * len(letters)
    return shouting or bool(re.search(r"https?:|www\.|\bfq\.\s*\d", text))


@lru_cache
def model() -> dict:
    return json.loads((DATA / "sentence_model.json").read_text(encoding="utf-8"))


def probabilities(lang: str, feats: list[dict[str, float]], params: dict | None = None) -> list[float]:
    """The softmax over one question's candidates: the chance that each is the one that answers."""
    p = (params or model())[lang]
    if len(p["weights"]) != len(FEATURES):
        raise ValueError("sentence_model.json does not match FEATURES: refit with bench/fit_sentences.py --write")
    z = [sum(w * (f[k] - m) / s for k, w, m, s in zip(FEATURES, p["weights"], p["mean"], p["std"])) for f in feats]
    top = max(z, default=0.0)
    e = [math.exp(x - top) for x in z]
    return [x / sum(e) for x in e]
