"""The agenda when it is written in a line or a sentence rather than as a list: "rendi: 1) … 2) …",
"Rendi i ditës (miratuar): 1. … 2. …", "… përmbante pesë çështje: I. …; II. …", "lexoi rendin e ditës …:
së pari …, së dyti …, dhe në fund të ndryshme", "Agenda: (1) … (2) …", and in narrative minutes "u diskutua
për X, për Y dhe për Z" when nothing else gives it.

The items are the pieces between markers of one family counted in order (1, 2, 3 / I, II, III / së pari,
së dyti … në fund); a family that does not count up from its first is no enumeration ("nr. 4" or "V. Bejko").
"""
import re
from typing import NamedTuple

from assistant.meetings.gazetteer import fold

ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
ORDINAL = ("pari", "dyti", "treti", "katerti", "pesti", "gjashti", "shtati", "teti", "nenti", "dhjeti")
MARKERS = {  # family -> pattern on the folded text; group 1 is the item's place
    "digit": re.compile(r"(?:(?<=\s)|(?<=[:;,])|^)\(?(\d{1,2})[.)](?!\d)\s*"),
    "roman": re.compile(r"(?:(?<=\s)|(?<=[:;,])|^)\(?(" + "|".join(sorted(ROMAN, key=len, reverse=True)) +
                        r")[.)]\s+"),
    "ordinal": re.compile(r"(?:\b(?:dhe|and)\s+)?\b(?:se\s+(" + "|".join(ORDINAL) + r")|(?:ne|se)\s+fund(?:i|mi)?)\b"
                          r"\s*,?\s*"),
}
CUE = re.compile(r"\brend\w*\s+(?:(?:e|i|te)\s+)?dites\b|\bagenda\b|\brendi\b")
ITEM_END = re.compile(r"[.;]\s+(?=[A-ZÇË„“\"])|\.\s*$|\n\s*\n")
DISCUSSED = re.compile(r"\b(?:u\s+diskutua|u\s+diskutuan|u\s+shqyrtua|u\s+shqyrtuan|diskutuam|were\s+discussed)\s+"
                       r"(?:edhe\s+)?(?:per|mbi|rreth|:)?\s*")


class Item(NamedTuple):
    text: str
    start: int
    end: int


def _place(family: str, m: re.Match) -> int | None:
    """The number a marker stands for; None for "në fund", which closes any count."""
    value = m[1]
    if value is None:
        return None
    return int(value) if family == "digit" else (ROMAN if family == "roman" else ORDINAL).index(value) + 1


def _counted(family: str, marks: list[re.Match]) -> list[re.Match]:
    """The longest run of markers counting up by one from 1 (a closing "në fund" ends it)."""
    best: list[re.Match] = []
    for i, first in enumerate(marks):
        if _place(family, first) != 1:
            continue
        run, want = [first], 2
        for m in marks[i + 1:]:
            place = _place(family, m)
            if place == want or (place is None and len(run) >= 2):
                run.append(m)
                want += 1
                if place is None:
                    break
        best = max(best, run, key=len)
    return best


def enumeration(text: str, offset: int = 0) -> list[Item]:
    """The items of an inline enumeration in `text` (at least two), with spans shifted by `offset`."""
    f = fold(text)
    runs = []
    for family, pattern in MARKERS.items():
        # roman numerals are capitals: "I." is a marker, the article "i." is not
        marks = [m for m in pattern.finditer(f) if family != "roman" or text[m.start(1):m.end(1)].isupper()]
        runs.append((family, _counted(family, marks)))
    family, run = max(runs, key=lambda r: len(r[1]))
    if len(run) < 2:
        return []
    items = []
    for a, b in zip(run, run[1:] + [None]):
        end = b.start() if b else len(text)
        if not b:
            stop = ITEM_END.search(text, a.end())
            end = stop.start() if stop else end
        piece = text[a.end():end]
        body = re.sub(r"(?:[\s,;.]+(?:dhe|and))?[\s,;.]+$", "", piece).lstrip(" ,;:")
        if body.strip():
            start = a.end() + piece.find(body)
            items.append(Item(" ".join(body.split()), offset + start, offset + start + len(body)))
    return items


def in_prose(text: str) -> list[Item]:
    """The first agenda enumeration announced in a paragraph ("rendi i ditës … : I. …; II. …")."""
    f = fold(text)
    for cue in CUE.finditer(f):
        colon = re.compile(r"[^\n]*?(?:\n(?!\s*\n)[^\n]*?){0,2}?:").match(f, cue.end())
        if not colon or colon.end() - cue.end() > 200:
            continue
        stop = re.compile(r"\n\s*\n").search(text, colon.end())
        items = enumeration(text[colon.end():stop.start() if stop else len(text)], colon.end())
        if items:
            return items
    return []


def discussed(text: str) -> list[Item]:
    """Topics of "u diskutua për X, për Y dhe për Z": a narrative record's agenda when it gives no other."""
    items = []
    for cue in DISCUSSED.finditer(fold(text)):
        stop = ITEM_END.search(text, cue.end())
        end = stop.start() if stop else len(text)
        seps = list(re.finditer(r"\s*[,;]\s*|\s+(?:dhe|and)\s+(?=(?:p[eë]r|mbi|rreth)\s)", text[cue.end():end]))
        bounds = [0, *(x for m in seps for x in m.span()), end - cue.end()]
        for a, b in zip(bounds[::2], bounds[1::2]):
            part = text[cue.end() + a:cue.end() + b]
            body = re.sub(r"^(?:p[eë]r|mbi|rreth)\s+", "", part.strip())
            if len(body.split()) >= 2:
                start = cue.end() + a + part.find(body)
                items.append(Item(" ".join(body.split()), start, start + len(body)))
    return items
