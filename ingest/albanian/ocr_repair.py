"""Repair of Albanian text that went through OCR without the Albanian model (é for ë, ¢ for ç,
g for q, words run together).

A word changes only when it is not in the word list and exactly one cheapest repair of it is:
the list is the judge, so names and foreign words the list does not know stay as they are.
Word lists live in ingest/data/ (`fjale-*.txt[.gz]`); build them with
`python -m ingest.albanian.ocr_repair build-wordlist`.
"""
import gzip
import itertools
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"

# What each character may have been before OCR, with a cost: the OCR-only glyphs are cheap, swaps
# between two real Albanian letters dear, so "té" becomes "të" rather than "te".
CONFUSIONS = {
    "é": (("ë", 1.0), ("e", 1.6)),
    "è": (("ë", 1.0), ("e", 1.6)),
    "€": (("ë", 1.0),),
    "¢": (("ç", 1.0),),
    "|": (("i", 1.2), ("l", 1.4)),
    "c": (("ç", 1.3),),
    "g": (("q", 1.3),),
    "e": (("ë", 1.5),),
    "ë": (("e", 1.5),),
}
OCR_GLYPHS = frozenset("éè€¢|")
MAX_SWAPS = 4  # a repair changes at most this many letters
MAX_VARIABLE = 12  # words with more confusable letters are left alone (too many combinations)

# Words that OCR tends to glue to their neighbour ("sidhe", "funksionimitté", "Modelii").
GLUE_WORDS = frozenset(
    "dhe të së si e i në për që me nga ose apo se do ka ku kur".split()
)

ARTICLES = frozenset({"i", "e"})

WORD_RE = re.compile(r"(?:[^\W\d_]|[€¢]|(?<=[^\W\d_])\|(?=[^\W\d_]))+")


@dataclass
class Repair:
    start: int  # span of the word in the original text
    end: int
    new_start: int  # span of its replacement in the repaired text
    new_end: int
    original: str
    replacement: str


@lru_cache(maxsize=1)
def wordlist() -> frozenset[str]:
    """All lower-case word forms of the bundled word lists."""
    words: set[str] = set()
    for path in sorted(DATA.glob("fjale-*.txt*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            words.update(line.strip().lower() for line in fh if line.strip() and not line.startswith("#"))
    return frozenset(words)


def needs_repair(text: str) -> bool:
    """Does the text look like OCR made without the Albanian model (é/¢/€ where ë/ç belong)?"""
    wrong = sum(text.count(c) for c in "é€¢")
    return wrong >= 5 and wrong > 0.2 * (wrong + text.count("ë") + text.count("ç"))


def repair(text: str, *, light: bool = False, words: frozenset[str] | None = None) -> tuple[str, list[Repair]]:
    """The repaired text and the list of changes. `light` (for good OCR, e.g. tesseract's Albanian
    model) fixes only characters Albanian does not use (é, ¢, €, |) and splits a run-together word
    only where both halves are listed words as written ("Mekanizmii" -> "Mekanizmi i")."""
    words = words if words is not None else wordlist()
    out: list[str] = []
    repairs: list[Repair] = []
    pos = 0
    length = 0
    for match in WORD_RE.finditer(text):
        original = match.group()
        if light and not OCR_GLYPHS.intersection(original) and original.lower() in words:
            continue
        fixed = repair_word(original, words, light=light)
        if fixed is None:
            continue
        out.append(text[pos : match.start()])
        length += match.start() - pos
        repairs.append(Repair(match.start(), match.end(), length, length + len(fixed), original, fixed))
        out.append(fixed)
        length += len(fixed)
        pos = match.end()
    out.append(text[pos:])
    return "".join(out), repairs


def repair_word(word: str, words: frozenset[str], *, light: bool = False) -> str | None:
    """The repaired form of one word, or None when it is fine or cannot be repaired for sure."""
    lower = word.lower()
    if lower in words or len(word) < 2 and not OCR_GLYPHS.intersection(word):
        return None
    fixed = _best_variant(lower, words, light)
    if fixed is None:
        fixed = _split(lower, words, exact=light)
    if fixed is None:
        return None
    return _match_case(word, fixed)


def _best_variant(lower: str, words: frozenset[str], light: bool) -> str | None:
    """The single cheapest in-list spelling reachable by confusion swaps."""
    options = []
    variable = 0
    for ch in lower:
        alts = CONFUSIONS.get(ch, ()) if (not light or ch in OCR_GLYPHS) else ()
        if alts:
            variable += 1
            keep = () if ch in OCR_GLYPHS else ((ch, 0.0),)  # OCR glyphs are never right in Albanian
            options.append(keep + alts)
        else:
            options.append(((ch, 0.0),))
    if not variable or variable > MAX_VARIABLE:
        return None
    best: list[tuple[float, str]] = []
    for combo in itertools.product(*options):
        swaps = sum(1 for c, cost in combo if cost)
        if swaps > MAX_SWAPS:
            continue
        candidate = "".join(c for c, _ in combo)
        if candidate != lower and candidate in words:
            best.append((sum(cost for _, cost in combo), candidate))
    if not best:
        return None
    best.sort()
    if len(best) > 1 and best[1][0] - best[0][0] < 0.05:
        return None  # two equally good readings: leave the word alone
    return best[0][1]


def _split(lower: str, words: frozenset[str], exact: bool = False) -> str | None:
    """Split a run-together word in two when one half is a short function word and both halves
    are words (after confusion repair): "sidhe" -> "si dhe", "komunitetii" -> "komuniteti i"."""
    found = []
    for cut in range(1, len(lower)):
        left, right = lower[:cut], lower[cut:]
        fixed_left = left if left in words else None if exact else _best_variant(left, words, False)
        fixed_right = right if right in words else None if exact else _best_variant(right, words, False)
        if not fixed_left or not fixed_right:
            continue
        if any(len(part) == 1 and part not in GLUE_WORDS for part in (fixed_left, fixed_right)):
            continue  # a lone letter is a word in the list, but rarely what was meant
        if exact and fixed_right not in ARTICLES:
            continue  # good OCR glues only the article to the word before it ("Mekanizmii")
        if fixed_left in GLUE_WORDS or fixed_right in GLUE_WORDS:
            found.append(f"{fixed_left} {fixed_right}")
    if len(found) == 1:
        return found[0]
    # "sidhe" splits once; "dhefushave" splits as "dhe fushave" and "dh efushave" never (no word)
    return None


def _match_case(original: str, fixed: str) -> str:
    if original.isupper() and len(original) > 1:
        return fixed.upper()
    if original[:1].isupper():
        return fixed[:1].upper() + fixed[1:]
    return fixed


# --- building the word lists (run by hand; the results are committed data files) ---------------

def _docx_words(paths: list[Path]) -> set[str]:
    import docx

    words: set[str] = set()
    for path in paths:
        document = docx.Document(str(path))
        texts = [p.text for p in document.paragraphs]
        for table in document.tables:
            texts += [cell.text for row in table.rows for cell in row.cells]
        for text in texts:
            words.update(m.group().lower() for m in re.finditer(r"[^\W\d_]+", text))
    return words


def _hunspell_words(dic: Path, aff: Path) -> set[str]:
    """Every form a hunspell dictionary allows (its suffix/prefix rules expanded)."""
    kinds: dict[str, str] = {}
    rules: dict[str, list[tuple[str, str, re.Pattern | None]]] = {}
    for line in aff.read_text(encoding="latin-1").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] in ("SFX", "PFX") and parts[2] in "YN":
            kinds[parts[1]] = parts[0]
            rules[parts[1]] = []
        elif len(parts) >= 5 and parts[0] in ("SFX", "PFX"):
            strip = "" if parts[2] == "0" else parts[2]
            add = "" if parts[3] == "0" else parts[3].split("/")[0]
            cond = parts[4]
            pattern = None if cond == "." else re.compile(cond + "$" if parts[0] == "SFX" else "^" + cond)
            rules[parts[1]].append((strip, add, pattern))
    words: set[str] = set()
    for line in dic.read_text(encoding="latin-1").splitlines()[1:]:
        stem, _, flags = line.strip().partition("/")
        if not stem:
            continue
        words.add(stem.lower())
        for flag in flags:
            for strip, add, pattern in rules.get(flag, []):
                if pattern and not pattern.search(stem):
                    continue
                if kinds[flag] == "SFX" and stem.endswith(strip):
                    words.add((stem[: len(stem) - len(strip)] + add).lower())
                elif kinds[flag] == "PFX" and stem.startswith(strip):
                    words.add((add + stem[len(strip) :]).lower())
    return words


def build_wordlists(root: Path) -> None:
    """Write ingest/data/fjale-korpusi.txt (from the bundled DOCX files) and, when Debian's
    myspell-sq is installed, ingest/data/fjale-hunspell-sq.txt.gz (GPL-2+, see its header)."""
    DATA.mkdir(exist_ok=True)
    docs = sorted((root / "corpus").glob("*.docx")) + sorted((root / "tests/fixtures/samples").glob("*.docx"))
    corpus = sorted(_docx_words(docs))
    header = "# Word forms of the bundled KVSP documents (DOCX), lower case. Built by ingest/albanian/ocr_repair.py.\n"
    (DATA / "fjale-korpusi.txt").write_text(header + "\n".join(corpus) + "\n", encoding="utf-8")
    dic, aff = Path("/usr/share/hunspell/sq_AL.dic"), Path("/usr/share/hunspell/sq_AL.aff")
    if dic.exists() and aff.exists():
        forms = sorted(_hunspell_words(dic, aff))
        header = (
            "# Albanian word forms expanded from Debian's myspell-sq 1.6.4 (sq_AL.dic/.aff),\n"
            "# Copyright 2001, 2011 Luan Kelmendi, GPL-2+. Built by ingest/albanian/ocr_repair.py.\n"
        )
        with gzip.open(DATA / "fjale-hunspell-sq.txt.gz", "wt", encoding="utf-8", compresslevel=9) as fh:
            fh.write(header + "\n".join(forms) + "\n")
    print(f"{len(corpus)} corpus words; hunspell: {dic.exists()}")


if __name__ == "__main__":
    if sys.argv[1:] == ["build-wordlist"]:
        build_wordlists(Path(__file__).resolve().parents[2])
    else:
        print("usage: python -m ingest.albanian.ocr_repair build-wordlist")
