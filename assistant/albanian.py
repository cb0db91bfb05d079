"""Albanian-aware text normalisation for matching: folding, tokens, stop words, stems.

Matching only: the stored and displayed text is never changed by anything here.
"""
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
# OCR in English mode writes é for ë and ¢ for ç; fold them with the real letters.
_FOLD = str.maketrans({"ë": "e", "é": "e", "è": "e", "ç": "c", "¢": "c", "’": "'", "ё": "e"})
_TOKEN = re.compile(r"[a-z0-9]+")
STEM_LENGTH = 5  # truncation stem: Albanian inflects at the end (siguri, sigurisë, sigurinë)


def fold(text: str) -> str:
    text = text.lower().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


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


def stem(word: str) -> str:
    return word if word.isdigit() else word[:STEM_LENGTH]


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
