"""Council bodies, roles and abbreviations (data in assistant/data/institutions.json).

Matching is on folded text (lower case, ë->e, ç->c and OCR variants) that keeps the length of the
original, so every match is also a span of the original text.
"""
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "institutions.json"
_FOLD = str.maketrans({"ë": "e", "ç": "c", "é": "e", "è": "e", "¢": "c", "’": "'", "‘": "'"})
ABBREVIATION = re.compile(r"^(?:[A-ZÇË]{2,8}|Dh[A-ZÇË]{1,6}|[A-ZÇË]{1,4}(?:Dh|Gj|Sh|Nj|Rr|Xh|Zh|Th)[A-ZÇË]{0,4})$")


def fold(text: str) -> str:
    """Lower case without diacritics, same length as `text` (offsets stay valid)."""
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text).translate(_FOLD)


@dataclass(frozen=True)
class Body:
    full: str
    abbr: str | None
    kind: str  # "institution" or "role"


@lru_cache
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@lru_cache
def _index() -> tuple[dict[str, Body], re.Pattern]:
    """Folded alias -> body, and one regex of all aliases, longest first."""
    index: dict[str, Body] = {}
    for kind, key in (("institution", "institutions"), ("role", "roles")):
        for entry in _data()[key]:
            body = Body(entry["full"], entry.get("abbr"), kind)
            for alias in [entry["full"], *(entry.get("aliases") or [])] + ([entry["abbr"]] if entry.get("abbr") else []):
                index.setdefault(fold(alias), body)
    alternatives = sorted(index, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(a) for a in alternatives) + r")(?![\w])")
    return index, pattern


@lru_cache
def institution_words() -> frozenset[str]:
    """Folded words of the bodies' full names and aliases ('shendetit', 'rrethit'): words no person's name is made of."""
    words = set()
    for key in ("institutions", "roles"):
        for entry in _data()[key]:
            for alias in [entry["full"], *(entry.get("aliases") or [])]:
                words.update(w for w in re.findall(r"[a-z']+", fold(alias)) if len(w) >= 4)
    return frozenset(words)


def honorifics() -> tuple[str, ...]:
    return tuple(_data()["honorifics"])


def lookup(name: str) -> Body | None:
    """The body a whole name refers to ('KP', 'Sh. Sociale', 'sekr. teknike'), else None."""
    key = fold(" ".join(name.split())).strip(" .,:;")
    return _index()[0].get(key) or _index()[0].get(key + ".")


def find_bodies(text: str) -> list[tuple[int, int, Body]]:
    """Every alias of a known body in `text`, as (start, end, body), left to right."""
    index, pattern = _index()
    return [(m.start(), m.end(), index[m.group(1)]) for m in pattern.finditer(fold(text))]


CONNECTORS = frozenset({"e", "i", "te", "se", "per", "dhe", "ne", "me", "a", "of", "the", "and"})


@lru_cache
def _alias_words() -> tuple[tuple[tuple[str, ...], Body], ...]:
    """The content words of every alias, folded: what a shortened spelling is read against."""
    out = []
    for alias, body in _index()[0].items():
        words = tuple(w for w in re.findall(r"[^\W\d_]+", alias) if w not in CONNECTORS)
        if words:
            out.append((words, body))
    return tuple(out)


def abbreviated(name: str) -> Body | None:
    """The body a shortened spelling stands for, each word the start of a word of one alias, in order:
    'Dr. Shërb. Publike', 'Em.Civ.', 'Pol Bashk', 'sekr tek', 'Dr Infrastruktures'. A lone word must keep
    four letters ('sekr'); shorter ones are abbreviations, read by lookup()."""
    words = [w for w in re.findall(r"[^\W\d_]+", fold(name)) if w not in CONNECTORS]
    if not words or len(words) > 4 or any(len(w) < 2 for w in words) or (len(words) == 1 and len(words[0]) < 4):
        return None
    for alias, body in _alias_words():
        if len(alias) >= len(words) and all(a.startswith(w) for w, a in zip(words, alias)):
            return body
    return None


def is_abbreviation(word: str) -> bool:
    return bool(ABBREVIATION.match(word.strip(".,;:()")))


def is_body_name(name: str) -> bool:
    """A name that starts with a known body or an abbreviation: 'KP Lumëz', 'Dr. e Infrastrukturës (bashkia)'."""
    name = name.strip()
    if not name:
        return False
    first = name.split()[0]
    if is_abbreviation(first):
        return True
    hits = find_bodies(name)
    return bool(hits) and hits[0][0] == 0


def expand(institution: str | None, abbreviations: bool = True) -> str | None:
    """Write out abbreviated institutions for the draft: 'KP Lumëz' -> 'Komisariati i Policisë Lumëz (KP)',
    'Sh. Sociale, bashkia' -> 'Shërbimi Social, bashkia'. Unknown text is returned unchanged. An abbreviation
    after an article or preposition ('kryetar i KB') stays, as the written-out name would need another case;
    with abbreviations=False only shortened spellings are written out."""
    if not institution:
        return institution
    text = " ".join(institution.split())
    out, pos = [], 0
    for start, end, body in find_bodies(text):
        if start < pos:
            continue
        written = text[start:end]
        out.append(text[pos:start])
        after_article = re.search(r"\b(?:i|e|të|së|në|nga|te|për|me|tek)\s+$", text[:start])
        if body.abbr and written == body.abbr and (not abbreviations or after_article):
            out.append(written)
        elif body.abbr and written == body.abbr:
            tail = re.match(r"(\s+[A-ZÇË][a-zçë]+)(?=$|[,;(])", text[end:])  # a place name: 'KP Lumëz'
            if tail:
                out.append(f"{body.full}{tail.group(1)} ({body.abbr})")
                end += len(tail.group(1))
            else:
                out.append(f"{body.full} ({body.abbr})")
        elif written != body.full and (written.endswith(".") or "." in written):
            out.append(body.full)  # a shortened spelling: 'Sh. Sociale', 'Emergj. Civile'
        else:
            out.append(written)
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    return _expand_short_words(result) if abbreviations else result


def _expand_short_words(text: str) -> str:
    words = {fold(k): v for k, v in _data()["short_words"].items() if not k.startswith("_")}

    def repl(m: re.Match) -> str:
        full = words.get(fold(m.group(0)))
        if not full or full == m.group(0):
            return m.group(0)
        return full[0].upper() + full[1:] if m.group(0)[0].isupper() else full
    return re.sub(r"(?<![\w.])[\wçëÇË-]+\.", repl, text)
