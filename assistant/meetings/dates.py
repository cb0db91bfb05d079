"""Albanian dates and deadlines, resolved against the meeting date.

Conventions (corpus/samples/README.md): a named month or quarter means its last day; "brenda N
javëve/ditëve" counts from the meeting date, "ditë pune" skips weekends; "javën tjetër" is the
Friday of the following week, "deri të premten" the coming Friday; ongoing work and deadlines
tied to an undated event ("para sezonit turistik", "mbledhja tjetër") have no date but keep their
text. English notes of partners read the same way: "21 May 2025", "by 15 June", "by the end of June",
"by Friday", "next week", "within 10 working days", "before the season opens". Matching runs on folded
text of the same length, so spans point into the original.
"""
import calendar
import re
from datetime import date, timedelta
from typing import NamedTuple

from assistant.meetings.gazetteer import fold

MONTHS = ("janar", "shkurt", "mars", "prill", "maj", "qershor", "korrik", "gusht", "shtator", "tetor", "nentor",
          "dhjetor")
MONTH = r"(janar|shkurt|mars|prill|maj|qershor|korrik|gusht|shtator|tetor|nentor|dhjetor)(?:it|ut|i|in)?\b"
ANY_MONTH = MONTH.replace("(", "(?:", 1)  # the same, capturing nothing: for lookaheads
MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december")
MONTH_EN = r"(" + "|".join(MONTHS_EN) + r")\b"  # only next to a day or "end of": "may" is also a verb
WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = ("hene", "marte", "merkure", "enjte", "premte", "shtune", "diel")
NUMBER_WORDS = {"nje": 1, "dy": 2, "tre": 3, "tri": 3, "kater": 4, "pese": 5, "gjashte": 6, "shtate": 7, "tete": 8,
                "nente": 9, "dhjete": 10, "pesembedhjete": 15, "njezet": 20, "tridhjete": 30,
                "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30}
NUMBER = r"(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")"
ORDINALS = {"pare": 1, "dyte": 2, "trete": 3, "katert": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2,
            "3": 3, "4": 4}
FUND = r"(?:fund(?:i|in)?\s+(?:i|e|te)\s+|fund\s+te\s+|mes(?:i|in)?\s+(?:i|e|te)\s+|fund(?:i|in)?\s+(?=" + ANY_MONTH + r"))"

STRONG_CUE = re.compile(r"(?:\bafat(?:i)?\s*:?|\bdeadline\s*:?|\bmax\.?|\bmaksimumi?|\bderi(?:\s+(?:me|ne))?(?:\s+fund\w*\s+(?:i|e|te))?|"
                        r"\bjo\s+me\s+vone\s+se|\bbrenda|\buntil|\bby)\s*$")
WEAK_CUE = re.compile(r"(?:\bne|\bper|\bme|\bin)\s+$")
START_CUE = re.compile(r"(?:\bnga|duke\s+filluar(?:\s+nga)?|\bnis\w*|\bfillo\w*|\bprej|\bfrom|\bstarting)\s+"
                       r"(?:(?:data|dates|me|te|e)\s+)?(?:(?:te|e)\s+\w+,?\s+)?$")
ONGOING = re.compile(r"\b(?:ne\s+vazhdim(?:esi)?|vazhdimisht|cdo\s+(?:\d+\s+)?(?:dite|jave|muaj|vit|tremujor)\w*|"
                     r"gjate\s+(?:gjithe\s+)?vitit(?:\s+shkollor)?|periodikisht|permanent\w*|sipas\s+nevojes|"
                     r"cdo\s+(?:te\s+)?(?:hene|marte|merkure|enjte|premte|shtune|diel)\w*)\b")
EVENT = re.compile(r"(?:(?:\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?:dit|jav)\w*\s+)?\bpara\s+(?!se\b|ores\b|\d)"
                   r"[^,;()\n–—.]+|(?:\b(?:ne|per|deri\s+ne|para)\s+)?\bmbledhj\w*\s+(?:e\s+)?"
                   r"(?:tjeter|ardhshme|radhes|pasardhese)\b|\bbefore\s+(?!the\s+end\b|\d)[^,;()\n–—.]+|"
                   r"(?:\b(?:by|at|until|for)\s+)?\bthe\s+next\s+meeting\b")


class Deadline(NamedTuple):
    due: date | None
    due_text: str | None
    span: tuple[int, int] | None


class _Hit(NamedTuple):
    start: int
    end: int
    due: date | None
    rank: int  # 4 deadline, 3 plain date, 2 event-tied, 1 ongoing, 0 a start date


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year4(y: str) -> int:
    return int(y) + 2000 if len(y) == 2 else int(y)


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_on_or_after(ref: date | None, month: int, day: int | None) -> date | None:
    """Month (and day) without a year: the first such date not before the meeting."""
    if ref is None:
        return None
    for year in (ref.year, ref.year + 1):
        d = _safe(year, month, day) if day else last_day(year, month)
        if d and (d >= ref or (day is None and month == ref.month and year == ref.year)):
            return d
    return None


def add_working_days(start: date, n: int) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


UNITS = {"dit": "day", "jav": "week", "muaj": "month"}


def _counted(ref: date | None, n: int, unit: str, working: bool) -> date | None:
    """`n` days (working days if `working`), weeks or months after `ref`: "brenda 10 ditëve pune", "within two weeks"."""
    if not ref:
        return None
    if unit == "day":
        return add_working_days(ref, n) if working else ref + timedelta(days=n)
    return ref + timedelta(weeks=n) if unit == "week" else _add_months(ref, n)


def _add_months(d: date, n: int) -> date:
    month = d.month - 1 + n
    year = d.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _explicit(f: str, ref: date | None):
    """(start, end, date|None) for every explicit date: 14.03.2024, 14/3/24, 3 tetor 2024, 14.03, 15 prill."""
    taken = []
    for m in re.finditer(r"(?<![\d.])(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4}|\d{2})(?![\d])", f):
        taken.append((m.start(), m.end(), _safe(_year4(m[3]), int(m[2]), int(m[1]))))
    for m in re.finditer(r"(?<![\d.])(\d{1,2})\s+(?:e\s+)?" + MONTH + r"(?:\s+(?:te\s+|e\s+)?(?:vitit\s+)?(\d{4}))?", f):
        month = MONTHS.index(m[2]) + 1
        taken.append((m.start(), m.end(),
                      _safe(int(m[3]), month, int(m[1])) if m[3] else _next_on_or_after(ref, month, int(m[1]))))
    for m in re.finditer(r"(?<![\d.])(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + MONTH_EN + r"(?:,?\s+(\d{4}))?", f):
        month = MONTHS_EN.index(m[2]) + 1
        taken.append((m.start(), m.end(),
                      _safe(int(m[3]), month, int(m[1])) if m[3] else _next_on_or_after(ref, month, int(m[1]))))
    for m in re.finditer(r"\b" + MONTH_EN + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", f):  # "May 21, 2025"
        taken.append((m.start(), m.end(), _safe(int(m[3]), MONTHS_EN.index(m[1]) + 1, int(m[2]))))
    for m in re.finditer(r"(?<![\d.:/,-])(\d{1,2})[./](\d{1,2})(?![\d]|[./-]\d|:)", f):
        day, month = int(m[1]), int(m[2])
        if 1 <= day <= 31 and 1 <= month <= 12:
            taken.append((m.start(), m.end(), _next_on_or_after(ref, month, day)))
    return _no_overlap(taken)


def _no_overlap(spans):
    out = []
    for s in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
        if not out or s[0] >= out[-1][1]:
            out.append(s)
    return out


def _periods(f: str, ref: date | None):
    """(start, end, date|None) for months, quarters, half-years, years and relative deadlines."""
    out = []
    friday = (lambda d: d + timedelta(days=4 - d.weekday())) if ref else None
    for m in re.finditer(r"\b" + FUND + r"?(?:muaj(?:it|in)\s+)?" + MONTH + r"(?:\s+(?:te\s+|i\s+)?(?:vitit\s+)?(\d{4}))?", f):
        month = MONTHS.index(m[1]) + 1
        d = last_day(int(m[2]), month) if m[2] else _next_on_or_after(ref, month, None)
        if d and m[0].startswith("mes"):
            d = d.replace(day=15)
        out.append((m.start(), m.end(), d))
    for m in re.finditer(r"(?:\bthe\s+)?\bend\s+of\s+" + MONTH_EN + r"(?:\s+(\d{4}))?", f):
        month = MONTHS_EN.index(m[1]) + 1
        out.append((m.start(), m.end(), last_day(int(m[2]), month) if m[2] else _next_on_or_after(ref, month, None)))
    for m in re.finditer(r"\b(?:" + FUND + r"muajit|brenda\s+muajit(?:\s+(?:kete|aktual))?(?!\s+" + ANY_MONTH + r")|kete\s+muaj|"
                         r"(?:the\s+)?end\s+of\s+(?:the|this)\s+month)\b", f):
        out.append((m.start(), m.end(), last_day(ref.year, ref.month) if ref else None))
    for m in re.finditer(r"\b(?:" + FUND + r")?muaj(?:in|it)?\s+(?:tjeter|e\s+ardhshem|qe\s+vjen)\b", f):
        out.append((m.start(), m.end(), last_day(*(lambda d: (d.year, d.month))(_add_months(ref, 1))) if ref else None))
    for m in re.finditer(r"\b(?:" + FUND + r"vitit|brenda\s+vitit|kete\s+vit)(?:\s+(\d{4}))?\b", f):
        year = int(m[1]) if m[1] else (ref.year if ref else None)
        out.append((m.start(), m.end(), date(year, 12, 31) if year else None))
    for m in re.finditer(r"\b(?:tremujor\w*|tm|q)\s*(?:(?:i|e|te)\s+(pare|dyte|trete|katert)\b|(iv|i{1,3}|[1-4])\b)"
                         r"(?:\s+(?:i\s+|te\s+)?(?:vitit\s+)?(\d{4}))?", f):
        q = ORDINALS[m[1] or m[2]]
        year = int(m[3]) if m[3] else (ref.year + (q < (ref.month - 1) // 3 + 1) if ref else None)
        out.append((m.start(), m.end(), last_day(year, 3 * q) if year else None))
    for m in re.finditer(r"\b(?:gjashtemujor\w*|6-mujor\w*)\s*(?:(?:i|e)\s+(pare|dyte)\b|(ii|i|[12])\b)"
                         r"(?:\s+(?:i\s+|te\s+)?(?:vitit\s+)?(\d{4}))?", f):
        h = ORDINALS[m[1] or m[2]]
        year = int(m[3]) if m[3] else (ref.year + (h < (ref.month - 1) // 6 + 1) if ref else None)
        out.append((m.start(), m.end(), last_day(year, 6 * h) if year else None))
    for m in re.finditer(r"\b(?:brenda|ne|per|afat(?:\s+prej)?|within|in)\s+(?:(?:nje\s+)?afat(?:i)?\s+(?:prej\s+)?)?"
                         + NUMBER + r"\s+(dit|jav|muaj)\w*(\s+(?:te\s+)?pune\w*)?\b", f):
        out.append((m.start(), m.end(), _counted(ref, _number(m[1]), UNITS[m[2]], bool(m[3]))))
    for m in re.finditer(r"\b(?:within|in)\s+" + NUMBER + r"\s+(working\s+|business\s+)?(day|week|month)s?\b", f):
        out.append((m.start(), m.end(), _counted(ref, _number(m[1]), m[3], bool(m[2]))))
    for m in re.finditer(r"\b(?:by|on|until|before)\s+(?:next\s+)?(" + "|".join(WEEKDAYS_EN) + r")\b", f):
        d = None
        if ref:
            d = ref + timedelta(days=(WEEKDAYS_EN.index(m[1]) - ref.weekday()) % 7 or 7)
        out.append((m.start(), m.end(), d))
    for m in re.finditer(r"\b(?:by\s+)?(?:the\s+end\s+of\s+)?next\s+week\b", f):
        out.append((m.start(), m.end(), friday(ref) + timedelta(days=7) if ref else None))
    for m in re.finditer(r"\b" + FUND + r"jav(?:es|en)\b(?!\s+(?:tjeter|e\s+ardhshme|qe\s+vjen))", f):
        out.append((m.start(), m.end(), friday(ref) if ref else None))
    for m in re.finditer(r"\b" + NUMBER + r"\s+dit\w*\s+(?:te\s+)?pune\w*\b", f):
        out.append((m.start(), m.end(), add_working_days(ref, _number(m[1])) if ref else None))
    for m in re.finditer(r"\bbrenda\s+(?:nje\s+)?(jav|muaj|dit)\w*\b(?!\s+(?:tjeter|pune|e\s+ardhshme))", f):
        unit = m[1]
        d = None
        if ref:
            d = friday(ref) if unit == "jav" else last_day(ref.year, ref.month) if unit == "muaj" else ref
        out.append((m.start(), m.end(), d))
    for m in re.finditer(r"\b(?:" + FUND + r")?jav\w*\s+(?:tjeter|e\s+ardhshme|qe\s+vjen)\b", f):
        out.append((m.start(), m.end(), friday(ref) + timedelta(days=7) if ref else None))
    for m in re.finditer(r"\b(?:te|e)\s+(" + "|".join(WEEKDAYS) + r")n?\b(?!\s*,?\s*\d)", f):
        d = None
        if ref:
            delta = (WEEKDAYS.index(m[1]) - ref.weekday()) % 7 or 7
            d = ref + timedelta(days=delta)
        out.append((m.start(), m.end(), d))
    for word, days in (("neser", 1), ("pasneser", 2)):
        for m in re.finditer(rf"\b{word}\b", f):
            out.append((m.start(), m.end(), ref + timedelta(days=days) if ref else None))
    return out


def _cue_start(f: str, start: int) -> tuple[int, int]:
    """Extend a match leftwards over its cue; rank 4 for a deadline cue, 3 weak or none, 0 a start cue."""
    before = f[max(0, start - 40):start]
    if START_CUE.search(before):
        return start, 0
    m = STRONG_CUE.search(before)
    if m:
        return start - (len(before) - m.start()), 4
    m = WEAK_CUE.search(before)
    return (start - (len(before) - m.start()), 3) if m else (start, 3)


def _inside_phrase(f: str, s: int, e: int, phrases: list[re.Match]) -> bool:
    """A date that names the event or the rhythm around it, not a deadline: "para mbledhjes së korrikut",
    "çdo të martë"; "para 15 qershorit" and "para fundit të muajit" are deadlines by "para"."""
    return any(p.start() < s and e <= p.end() and not re.fullmatch(r"para\s+(?:(?:fund|mes)\w*\s+(?:i|e|te)\s+)?", f[p.start():s])
               for p in phrases)


def _hits(text: str, ref: date | None) -> list[_Hit]:
    f = fold(text)
    hits = []
    phrases = [m for m in EVENT.finditer(f) if not re.match(r"\s*\d", f[m.end():m.end() + 12])]
    phrases += list(ONGOING.finditer(f))
    explicit = [x for x in _explicit(f, ref) if not _inside_phrase(f, x[0], x[1], phrases)]
    for s, e, d in explicit:
        s2, rank = _cue_start(f, s)
        hits.append(_Hit(s2, e, d, rank))
    for s, e, d in _periods(f, ref):
        if any(s < ee and e > ss for ss, ee, _ in explicit) or _inside_phrase(f, s, e, phrases):
            continue
        inherent = re.match(r"(?:brenda|ne|per|afat|within|in|fund|mes|jav|muaj|te|e|neser|pasneser|\d)", f[s:e])
        s2, rank = _cue_start(f, s)
        if rank == 3 and inherent and not re.match(r"\d|" + MONTH, f[s:e]):
            rank = 4  # relative deadlines are deadlines by themselves
        hits.append(_Hit(s2, e, d, rank))
    for m in EVENT.finditer(f):
        tail = f[m.end():m.end() + 12]
        if not re.match(r"\s*\d", tail):
            hits.append(_Hit(m.start(), m.end(), None, 2))
    for m in ONGOING.finditer(f):
        hits.append(_Hit(m.start(), m.end(), None, 1))
    return hits


def find_deadline(text: str, meeting_date: date | None = None) -> Deadline:
    """The deadline a line or cell gives, as (due, due_text, span); Deadline(None, None, None) when none.

    A dated deadline beats an event-tied one, which beats ongoing work; among equals the last wins
    ("nis më 11.11; raport deri më 20 dhjetor"). Start dates ("nga 01.04.2024") are not deadlines."""
    hits = _hits(text, meeting_date)
    if not hits:
        return Deadline(None, None, None)
    best = max(hits, key=lambda h: (h.rank if h.rank != 4 or h.due else 2.5, h.start))
    if best.rank == 0:
        return Deadline(None, text[best.start:best.end], (best.start, best.end))
    start, end = best.start, best.end
    if best.due is not None:  # keep an event clause that follows: "fundi i muajit, para shirave"
        m = re.match(r",\s*para\s+(?!se\b)[^,;()\n–—]+", fold(text)[end:])
        if m:
            end += len(m.group(0).rstrip(" ."))
    return Deadline(best.due, text[start:end].strip(), (start, end))


def parse_date(text: str, ref: date | None = None) -> date | None:
    """The first explicit date in `text` (14.03.2024, 14/3/2024, 14 mars 2024, "më 3 tetor" with `ref`)."""
    found = [d for _, _, d in _explicit(fold(text), ref) if d]
    return found[0] if found else None


def find_dates(text: str, ref: date | None = None) -> list[tuple[int, int, date]]:
    """Every explicit, resolvable date in `text` as (start, end, date)."""
    return [(s, e, d) for s, e, d in _explicit(fold(text), ref) if d]


MARKED = re.compile(r"(?:afat|deadline|max|maksimum|deri|brenda|para|jo\s+me\s+vone|until|by|within|before|in\s+\d|"
                    r"fund|mes|jav|muaj\w*\s+(?:tjeter|e\s+ardhshem)|neser|pasneser|(?:te|e)\s+(?:"
                    + "|".join(WEEKDAYS) + r")|\d+\s+dit|(?:ne|per)\s+(?:\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?:dit|jav|muaj)|"
                    r"(?:ne|per|deri\s+ne)?\s*mbledhj|the\s+next)")


def is_marked(deadline: Deadline) -> bool:
    """A deadline by its words ("deri", "brenda", "para", "javën tjetër", "5 ditë pune"), not a bare date or
    month ("në nëntor", "më 26.03.2025") that may as well say when something happened."""
    return bool(deadline.due_text) and bool(MARKED.match(fold(deadline.due_text)))
