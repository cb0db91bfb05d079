"""Albanian-aware text normalisation for matching: folding, tokens, stop words, stems.

Matching only: the stored and displayed text is never changed by anything here.
"""
import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from assistant.search import lemmas
from assistant.search.english_bridge import albanian_lemmas
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
    long forms of a word meet (ligj/ligji, plan/plani) as well as long ones (siguria/sigurisë).

    Measured against the analyser's lemmas (bench/retrieval.py, development questions): the
    lemma, or the stem of the lemma, joins irregular forms (mbajti/mban) but ranks no better, so
    the index keeps this stemmer; `lemma_term` and `lemma_stem` are the readings it was measured against."""
    if word.isdigit():
        return word
    for suffix in _suffixes():
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            word = word[: -len(suffix)]
            break
    return word[:STEM_LENGTH]


def lemma_term(word: str) -> str:
    """The analyser's lemma of a folded word (its stem when the tables do not know it)."""
    return word if word.isdigit() else lemmas.lemma(word) or stem(word)


def lemma_stem(word: str) -> str:
    """The stem of the analyser's lemma ("mbajti", "mban" -> "mbaj"), else the word's own stem."""
    return word if word.isdigit() else stem(lemmas.lemma(word) or word)


def content_words(text: str) -> list[str]:
    """Folded words that carry meaning (no stop words), not yet stemmed."""
    stops = stop_words()
    return [w for w in words(text) if w not in stops and (len(w) > 1 or w.isdigit())]


def lexical_tokens(text: str, expand_glossary: bool = False, english: bool = False,
                   term: Callable[[str], str] = stem) -> list[str]:
    """Tokens for the full-text index and for queries: folded, stop words dropped, stemmed.

    With `expand_glossary`, English council terms also add their glossary translation (for
    queries); with `english` (the question is English), every English word adds its Albanian
    translations, the glossary's or else the lexicon's (see `translations`). `term`: another
    reading of a word, for bench/retrieval.py's comparison only."""
    tokens = content_words(text)
    if expand_glossary or english:
        tokens = tokens + [w for ws in translations(words(text), lexicon=english) for w in ws]
    return [term(w) for w in tokens]


def translations(query_words: list[str], lexicon: bool = True, use_glossary: bool = True) -> list[set[str]]:
    """For each folded word of an English question, the folded Albanian words that say it: the
    hand-written glossary's translation of a phrase holding it (longest phrase first: "community
    policing" before "policing"), else, with `lexicon`, the lemmas the 58k-lexeme lexicon glosses
    with that word or a two-word phrase holding it ("fire brigade", "arsonists", "June").
    `use_glossary=False`: the lexicon alone, for bench/retrieval.py's comparison."""
    out: list[set[str]] = [set() for _ in query_words]
    table, stops = glossary() if use_glossary else {}, stop_words()
    for n in (3, 2, 1):
        for i in range(len(query_words) - n + 1):
            phrase = " ".join(query_words[i : i + n])
            found = table.get(phrase) or table.get(singular(phrase))
            if found:
                for j in range(i, i + n):
                    out[j].update(w for w in found.split() if w not in stops)
    if lexicon:
        skip = stops | english_function_words()
        for n in (2, 1):
            for i in range(len(query_words) - n + 1):
                span = range(i, i + n)
                if any(out[j] or query_words[j] in skip or query_words[j].isdigit() for j in span):
                    continue
                for j in span:
                    out[j].update(albanian_lemmas(" ".join(query_words[i : i + n])))
    return out


@lru_cache
def english_function_words() -> frozenset[str]:
    """English words that carry no content of a question ("many", "tell", "kind")."""
    raw = json.loads((DATA / "answer_words.json").read_text(encoding="utf-8"))
    return frozenset(fold(w) for w in raw["english_function_words"])


def singular(phrase: str) -> str:
    """"councils" -> "council", "duties" -> "duty": the glossary may hold only one number."""
    for plural, single in (("ies", "y"), ("s", "")):
        if phrase.endswith(plural) and not phrase.endswith("ss") and len(phrase) > len(plural) + 2:
            return phrase[: -len(plural)] + single
    return phrase
