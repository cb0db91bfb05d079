"""English words -> Albanian lemmas, read backwards from the 58,650-lexeme Albanian lexicon of
`uniparser-albanian` (every lexeme carries an English gloss, `trans_en`).

The English side of a question finds Albanian text through these lemmas; the hand-written
glossary (assistant/data/glossary_en_sq.json) stays as the override for council phrases the
lexicon does not hold or holds wrongly for this domain ("community policing", "measure").
Only the lexicon file is read (no analyser is loaded): about a second, once per process.
"""
import re
from functools import lru_cache
from importlib.resources import files

from ingest.albanian.folding import fold

MAX_SENSE_WORDS = 3  # "fire brigade", "police station": longer glosses are descriptions
MAX_LEMMAS = 4  # per English word: the first-listed senses of the most direct lexemes
_FIELD = re.compile(r"^\s*(lex|gramm|trans_en):\s*(.*)$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LEADING = re.compile(r"^(?:to|a|an|the|be)\s+")
SKIPPED_POS = {"PRON", "CONJ", "PREP", "PART", "INTJ", "NUM"}  # function words are not a question's content


def _senses(gloss: str) -> list[str]:
    out = []
    for part in re.split(r"[;,/]", _PAREN.sub(" ", gloss)):
        sense = _LEADING.sub("", " ".join(part.lower().split()))
        if sense and len(sense.split()) <= MAX_SENSE_WORDS and re.fullmatch(r"[a-z' -]+", sense):
            out.append(sense)
    return out


@lru_cache
def table() -> dict[str, tuple[str, ...]]:
    """{English sense (lowercase): Albanian lemmas, folded, most direct first}. A lemma ranks by
    where the sense stands in its gloss (a first sense is the word's meaning, a fourth a stretch)
    and by how many senses it has (a lexeme glossed with one word is that word)."""
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    entry: dict[str, str] = {}

    def flush():
        lemma, gloss, pos = entry.get("lex"), entry.get("trans_en"), entry.get("gramm", "").split(",")[0]
        if lemma and gloss and pos not in SKIPPED_POS and " " not in lemma.strip():
            senses = _senses(gloss)
            for rank, sense in enumerate(senses):
                ranked.setdefault(sense, []).append((rank, len(senses), fold(lemma.strip())))
        entry.clear()

    text = (files("uniparser_albanian.data_strict") / "lexemes.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("-lexeme"):
            flush()
            continue
        m = _FIELD.match(line)
        if m:
            entry[m.group(1)] = m.group(2)
    flush()
    return {sense: tuple(dict.fromkeys(lemma for *_, lemma in sorted(items)))[:MAX_LEMMAS]
            for sense, items in ranked.items()}


IRREGULAR = {"women": "woman", "men": "man", "children": "child", "people": "person", "met": "meet",
             "held": "hold", "took": "take", "chose": "choose", "spoke": "speak", "led": "lead"}


def english_forms(word: str) -> list[str]:
    """The word and its likely dictionary forms: plurals, -ing, -ed ("arsonists" -> "arsonist",
    "meetings" -> "meeting", "approved" -> "approve"), a few irregular ones ("women", "held")."""
    forms = [word, *([IRREGULAR[word]] if word in IRREGULAR else [])]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
                         ("d", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            forms.append(word[: -len(suffix)] + repl)
    return list(dict.fromkeys(forms))


def albanian_lemmas(phrase: str) -> tuple[str, ...]:
    """Folded Albanian lemmas for an English word or short phrase (empty when the lexicon has none)."""
    t = table()
    words = phrase.lower().split()
    *head, last = words
    for form in english_forms(last):
        lemmas = t.get(" ".join([*head, form]))
        if lemmas:
            return lemmas
    return ()
