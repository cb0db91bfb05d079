"""Albanian-aware text normalisation for matching: folding, tokens, stop words, stems.

Matching only: the stored and displayed text is never changed by anything here.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

from ingest.albanian.folding import fold

DATA = Path(__file__).resolve().parents[1] / "data"
_TOKEN = re.compile(r"[a-z0-9]+")
STEM_LENGTH = 5  # truncation stem: Albanian inflects at the end (siguri, sigurisë, sigurinë)
MIN_STEM = 3


@lru_cache
def normalisation_version() -> str:
    """A hash of everything that shapes lexical tokens: a stored index made with another version
    is re-tokenised on open (see Store.ensure_lexical)."""
    import hashlib

    digest = hashlib.sha256(f"{STEM_LENGTH}:{MIN_STEM}".encode())
    for name in ("stopwords.txt", "suffixes.txt"):
        digest.update((DATA / name).read_bytes())
    return digest.hexdigest()[:16]


def words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


@lru_cache
def stop_words() -> frozenset[str]:
    lines = (DATA / "stopwords.txt").read_text(encoding="utf-8").split()
    return frozenset(fold(w) for w in lines if not w.startswith("#"))


@lru_cache
def glossary() -> dict[str, str]:
    """English council terms -> Albanian words, folded, for the lexical side of English questions."""
    raw = json.loads((DATA / "glossary_en_sq.json").read_text(encoding="utf-8"))
    return {fold(k): fold(v) for k, v in raw.items()}


@lru_cache
def _suffixes() -> tuple[str, ...]:
    lines = (DATA / "suffixes.txt").read_text(encoding="utf-8").split()
    return tuple(sorted({fold(w) for w in lines if not w.startswith("#")}, key=len, reverse=True))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Strip one inflectional ending (ligji -> ligj, masat -> mas), then truncate, so short and
    long forms of a word meet (ligj/ligji, plan/plani) as well as long ones (siguria/sigurisë)."""
    if word.isdigit():
        return word
    for suffix in _suffixes():
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            word = word[: -len(suffix)]
            break
    return word[:STEM_LENGTH]


def content_words(text: str) -> list[str]:
    """Folded words that carry meaning (no stop words), not yet stemmed."""
    stops = stop_words()
    return [w for w in words(text) if w not in stops and (len(w) > 1 or w.isdigit())]


def lexical_tokens(text: str, expand_glossary: bool = False) -> list[str]:
    """Tokens for the full-text index and for queries: folded, stop words dropped, stemmed.

    With `expand_glossary`, English terms also add their Albanian translation (for queries)."""
    tokens = content_words(text)
    if expand_glossary:
        tokens = tokens + _glossary_terms(words(text))
    return [stem(w) for w in tokens]


def _glossary_terms(query_words: list[str]) -> list[str]:
    table, extra = glossary(), []
    for n in (3, 2, 1):  # longest phrase first: "community policing" before "policing"
        for i in range(len(query_words) - n + 1):
            phrase = " ".join(query_words[i : i + n])
            if phrase in table:
                extra.extend(w for w in table[phrase].split() if w not in stop_words())
    return extra
