"""Word form -> lemma for matching, read from the analyser's shipped tables (no analyser is loaded).

bench/retrieval.py measures it against the hand stemmer (albanian.lemma_term, lemma_stem); the
index keeps the stemmer while the lemma does not rank better.

Matching text is folded (no ë/ç), so the no-diacritics table is the one read: its forms are
plain, its lemmas are the analyser's. A form read without its ë is often ambiguous ("pike":
pikë or a form of pi, "ligj": ligj or lig): it takes the lemma that shares the longest start
with it, then the one most of its analyses give. A form the tables do not hold
(a name, a new word of an upload) has no lemma; the caller falls back to the stemmer.
"""
import gzip
from collections import Counter
from functools import lru_cache

from ingest.albanian.folding import fold
from ingest.albanian.morphology import TABLE

SKIPPED_POS = {"CONJ", "PREP", "PART", "INTJ", "NUM"}  # their lemmas join unrelated words ("të" -> "i")


@lru_cache
def table() -> dict[str, str]:
    """{folded form: folded lemma} of every form the no-diacritics table analyses."""
    options: dict[str, Counter] = {}
    with gzip.open(TABLE[False], "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            form, lemma, gramm, _ = line.rstrip("\n").split("\t")
            if lemma and gramm.split(",")[0] not in SKIPPED_POS and " " not in lemma:
                options.setdefault(fold(form), Counter())[fold(lemma)] += 1
    return {form: max(lemmas, key=lambda x: (_shared_prefix(form, x), lemmas[x], -len(x), x))
            for form, lemmas in options.items()}


def _shared_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def lemma(form: str) -> str | None:
    """The folded lemma of a folded word form, or None when the tables do not know it."""
    return table().get(form)
