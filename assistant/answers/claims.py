"""The checkable claims of a generated sentence, and whether a cited span holds them.

A sentence's names (capitalised words, initials with a surname), numbers, dates, times and months
must all occur in the span it cites, read after fold(): inflected names meet by stem ("Fier",
"Fierit"), an English name through its translations ("Albania", "Shqipëria"), numbers as written
or as digits <-> words for small ones ("7", "shtatë", "seven"), dates in any form dates.py reads
("14.03.2024", "14 mars 2024", "March 14, 2024"). A span that holds them can still contradict the
sentence: a negation one has and the other lacks, or another number for the same unit
("5 ditë" against "7 ditë"). Pure functions over text.
"""
import re
from dataclasses import dataclass
from datetime import date

from assistant.meetings.dates import MONTHS, MONTHS_EN, find_dates
from assistant.search.albanian import english_function_words, lexical_tokens, stem, stop_words, translations, words
from ingest.albanian.folding import fold

# A date written without its year is read in this year, in the sentence and the span alike.
NO_YEAR = 1900
_NUMBER_WORDS = {
    "zero": 0, "dy": 2, "tre": 3, "tri": 3, "kater": 4, "pese": 5, "gjashte": 6, "shtate": 7, "tete": 8,
    "nente": 9, "dhjete": 10, "njembedhjete": 11, "dymbedhjete": 12, "trembedhjete": 13, "katermbedhjete": 14,
    "pesembedhjete": 15, "gjashtembedhjete": 16, "shtatembedhjete": 17, "tetembedhjete": 18,
    "nentembedhjete": 19, "njezet": 20, "tridhjete": 30, "dyzet": 40, "pesedhjete": 50, "gjashtedhjete": 60,
    "shtatedhjete": 70, "tetedhjete": 80, "nentedhjete": 90, "njeqind": 100,
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
# "një" / "one" are also the article and a pronoun: a span may hold them, a sentence never claims them
_ONE = {"nje": 1, "one": 1}
_DIGITS = r"\d+(?:[.,]\d+)*"
_NUMBER = re.compile(r"(?<![\w.,])(" + _DIGITS + "|" + "|".join(sorted({**_NUMBER_WORDS, **_ONE}, key=len, reverse=True))
                     + r")(?![\w]|[.,]\d)")
# the word a number counts: "7 (shtatë) ditë", "40 anëtarë", "15 % e buxhetit"
_UNIT = re.compile(r"\s*(?:\([^)]{0,20}\)\s*)?(?:%\s*(?:e\s+|of\s+)?)?([^\W\d_]{3,})")
_TIMES = (
    re.compile(r"(?<![\d.:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])"),
    re.compile(r"\b(?:ora|oren|ores)\s+([01]?\d|2[0-3])(?:[.:]([0-5]\d))?(?![\d.:]*\d)"),
    re.compile(r"\bat\s+([01]?\d|2[0-3])[.:]([0-5]\d)(?![\d.:]*\d)"),
    re.compile(r"(?<![\d.:])(1[0-2]|0?\d)(?:[.:]([0-5]\d))?\s*([ap])\.?\s?m\b\.?"),
)
_NEGATION = re.compile(r"\b(?:nuk|mos|jo|asnje|askush|asgje|kurre|not|no|never|none|nobody|nothing|neither|nor|"
                       r"cannot)\b|\bs['’]|n['’]t\b")
_MONTH_SQ = re.compile(r"\b(" + "|".join(MONTHS) + r")(?:it|ut|i|in)?\b")
_MONTH_EN = re.compile(r"\b(" + "|".join(m.capitalize() for m in MONTHS_EN) + r")\b")
_CAPITAL = re.compile(r"(?<![\w'’-])([A-ZËÇ](?:[\w'’]*[^\W\d_])?)(?:-[\w'’]+)?")
_INITIAL = re.compile(r"(?<![\w.])([A-ZËÇ])\.\s*(?=([A-ZËÇ][^\W\d_]+))")


@dataclass(frozen=True)
class Claims:
    # as written, its own stems, and the stems of its translations (an English name or word: a
    # lemma's stem may be shorter than its inflected forms', "ftese" -> "fte" against "ftesa" -> "ftes")
    names: tuple[tuple[str, frozenset[str], frozenset[str]], ...]
    initials: tuple[tuple[str, str], ...]  # ("a", "hoxha"): an initial and the surname it belongs to
    numbers: frozenset[float]
    dates: tuple[date, ...]
    times: frozenset[tuple[int, int]]
    months: frozenset[int]
    units: tuple[tuple[float, frozenset[str]], ...]  # a number and the stems of what it counts
    negated: bool


@dataclass(frozen=True)
class _Read:
    """What a text holds, folded, for checking claims against it."""
    folded: str
    tokens: frozenset[str]
    numbers: frozenset[float]  # outside dates and times
    date_numbers: frozenset[float]  # a date's day and year: "në vitin 2024" meets "14 mars 2024"
    dates: tuple[date, ...]
    times: frozenset[tuple[int, int]]
    months: frozenset[int]
    units: tuple[tuple[float, frozenset[str]], ...]
    negated: bool


def read_claims(sentence: str) -> Claims:
    """The claims of a generated sentence (citation markers already removed)."""
    r = _read(sentence, english_units=True)
    skip = stop_words() | english_function_words() | set(MONTHS) | set(MONTHS_EN)  # a month is checked as a month
    names = []
    for m in _CAPITAL.finditer(sentence):
        word = m.group(1)
        if fold(word) in skip or _MONTH_SQ.fullmatch(fold(word)) or len(word) < 2:
            continue
        names.append((word, frozenset(lexical_tokens(word)),
                      frozenset(stem(w) for ws in translations(words(word)) for w in ws)))
    initials = tuple((fold(a), fold(b)) for a, b in _INITIAL.findall(sentence))
    return Claims(tuple(names), initials, frozenset(n for n in r.numbers if n != 1 or _has_digit_one(sentence)),
                  r.dates, r.times, r.months, r.units, r.negated)


def conflicts(claims: Claims, span: str) -> list[str]:
    """Why `span` does not support the sentence `claims` were read from; empty when it does."""
    s = _read(span, english_units=False)
    out = [f"name {w}" for w, own, translated in claims.names
           if not own & s.tokens and not any(t.startswith(c) for c in translated for t in s.tokens)]
    out += [f"initial {a}. {b}" for a, b in claims.initials
            if not re.search(rf"\b{a}\w*\.?\s+(?:\w+\s+){{0,2}}{re.escape(b[:4])}", s.folded)]
    out += [f"number {_fmt(n)}" for n in claims.numbers if n not in s.numbers | s.date_numbers]
    out += [f"date {d.isoformat()}" for d in claims.dates
            if not any(_same_date(d, e, s.numbers | s.date_numbers) for e in s.dates)]
    out += [f"time {h}:{m:02d}" for h, m in claims.times if (h, m) not in s.times]
    out += [f"month {m}" for m in claims.months if m not in s.months | _date_months(s.dates)]
    for n, unit in claims.units:
        counted = {v for v, u in s.units if u & unit}
        if counted and n not in counted:
            out.append(f"{_fmt(n)} where the span counts {', '.join(map(_fmt, sorted(counted)))}")
    if claims.negated != s.negated:
        out.append("negation" if claims.negated else "the span negates")
    return out


def _read(text: str, english_units: bool) -> _Read:
    folded = fold(text)
    masked, times = _times(folded)
    found_dates = find_dates(masked, date(NO_YEAR, 1, 1))
    for a, b, _ in found_dates:
        masked = masked[:a] + " " * (b - a) + masked[b:]
    numbers, units = set(), []
    for m in _NUMBER.finditer(masked):
        value = _value(m.group(1))
        if value is None:
            continue
        numbers.add(value)
        u = _UNIT.match(masked, m.end())
        if u and u.group(1) not in stop_words() and u.group(1) not in english_function_words():
            stems = {stem(u.group(1))}
            if english_units:
                stems |= {stem(w) for ws in translations([u.group(1)]) for w in ws}
            units.append((value, frozenset(stems)))
    months = {MONTHS.index(m) + 1 for m in _MONTH_SQ.findall(masked)}
    months |= {MONTHS_EN.index(m.lower()) + 1 for m in _MONTH_EN.findall(_masked_like(text, masked))}
    date_numbers = {float(d.day) for *_, d in found_dates} | {float(d.year) for *_, d in found_dates if d.year != NO_YEAR}
    return _Read(folded, frozenset(lexical_tokens(text)), frozenset(numbers), frozenset(date_numbers),
                 tuple(d for *_, d in found_dates),
                 frozenset(times), frozenset(months), tuple(units), bool(_NEGATION.search(folded)))


def _times(folded: str) -> tuple[str, set[tuple[int, int]]]:
    """Times of day as (hour, minute), and the text with them blanked (same length)."""
    found = set()
    for pattern in _TIMES:
        for m in pattern.finditer(folded):
            hour, minute = int(m.group(1)), int(m.group(2) or 0)
            if pattern.groups == 3:
                hour = hour % 12 + (12 if m.group(3) == "p" else 0)
            found.add((hour, minute))
            folded = folded[:m.start()] + " " * (m.end() - m.start()) + folded[m.end():]
    return folded, found


def _masked_like(text: str, masked: str) -> str:
    """`text` (its case kept: "May" is a month, "may" a verb) blanked where `masked` is."""
    return "".join(" " if b == " " and a != " " else a for a, b in zip(text, masked)) if len(text) == len(masked) else text


def _value(token: str) -> float | None:
    if token in _NUMBER_WORDS or token in _ONE:
        return float(_NUMBER_WORDS.get(token, 1))
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):  # 1.500 or 1,500: thousands
        return float(re.sub(r"[.,]", "", token))
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return None


def _same_date(d: date, e: date, span_numbers: frozenset[float]) -> bool:
    """The span's date is the sentence's. A sentence may leave out the year; a date the span writes
    without one meets the sentence's when the span names that year elsewhere."""
    if d == e or ((d.month, d.day) == (e.month, e.day) and d.year == NO_YEAR):
        return True
    return (d.month, d.day) == (e.month, e.day) and e.year == NO_YEAR and float(d.year) in span_numbers


def _date_months(dates) -> set[int]:
    return {d.month for d in dates}


def _has_digit_one(sentence: str) -> bool:
    return bool(re.search(r"(?<![\d.,])1(?![\d]|[.,]\d)", sentence))


def _fmt(n: float) -> str:
    return str(int(n)) if n == int(n) else str(n)
