"""The header of a meeting record read wherever it stands: a packed '|' line, a dash-separated line, prose,
a signature line at the end. Every cue (folded) is a candidate for a field, scored by the strength of its cue,
whether a colon labels it, and where it stands (the head and the tail of the notes hold the header); each field
takes its best-supported candidate, with the span of the notes it came from.
"""
import re
from dataclasses import dataclass

from assistant.meetings.dates import find_dates
from assistant.meetings.gazetteer import fold

UP, LO = "A-ZÇËÉ", "a-zçëé"
INITIAL = r"(?:Dh|Gj|Ll|Nj|Rr|Sh|Th|Xh|Zh|[A-ZÇË])\."
SURNAME = rf"[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?"
PERSON = re.compile(rf"(?<![\w.])(?:{INITIAL}\s?{SURNAME}|[{UP}][{LO}]+\s+{SURNAME}(?![\w]))")
# capitalised words that open a title or an institution, never a person's given name
NOT_GIVEN = re.compile(r"^(?:bashki|kryetar|kryesues|komun|mayor|deputy|polic|drejtor|prefekt|keshill|zyr|sall|rrug|"
                       r"sekretar|koordinator|zevendes|ministri|council|programme|technical|kuvend|qend|shoqat|"
                       r"komisar|inspektor|toger|kapiten|(?:imam|don|dr|mr|mrs|ms)\b)")
OCR_DIGIT = re.compile(r"(?<=[\d.:/])[lIoO](?=[\d.:/])|(?<![\w])[lIoO](?=\d[:.]\d)|(?<=\d[:.])[lIoO](?=\d)")
TIME = re.compile(r"(?<![\d.:/])([01]?\d|2[0-3])[:.]([0-5]\d)(?![\d]|\.\d)")
HOUR = re.compile(r"\bora\s+(\d{1,2})\b(?![:.]\d)(\s+e\s+gjys[em]\w*)?")  # 'ora 10 e gjysem' -> 10:30
CLAUSE = re.compile(r"\s+[|/–—]\s+|\s+-\s+|[;,]\s*|\.\s+|\(|\)")
TIME_CUES = {  # field -> folded cue words of the clause a time stands in
    "scheduled_time": r"caktuar|planifik|s'ka\s+kuorum|pa\s+kuorum|presim|parashikuar|ftes|thirr|lane\s+per|ishte\s+per|invitation|scheduled|\bplan\b",
    "start_time": r"\bfi[l1]l?[o0]?\w*|\bnis\w*|\bhap\w*|\bopened|\bstart\w*|\bbegan|me\s+fillim|\breal\b|\bactual\b",
    "end_time": r"\bmbyll\w*|\bmbaro\w*|\bperfundo\w*|\bclosed|\bended|\bfinished|\bend\b",
}
EVENT = re.compile(r"\b(?:vjen|erdhi|ardh|mberri\w*|arri\w*|bashku\w*|hyn|iku|ik\b|largo\w*|largim\w*|doli|del\b|left|leave|"
                   r"joined)|^\s*[+]")
CHAIR = r"\b(?:drejton|drejtoi|drejtonte|kryeson|kryesoi|kryesues\w*(?:\s+i\s+[\w-]+)?(?=\s*:)|moderon|moderoi|chair\w*|kryetari\s+i\s+kvsp)\b"
SECRETARY = (r"\b(?:mban\s+shenimet|mbajti\s+shenimet|shenimet(?:\s+i\s+mban)?|shenoi|procesverbalin\s+e\s+mbajti|"
             r"mbajti\s+procesverbalin|procesmbajtes\w*|mbajtes\w*\s+i\s+procesverbalit|sekr\b\.?|sekretar\w*\s+tekn\w*|"
             r"sekretari\s+teknik|technical\s+secretary|minutes\s+taken\s+by|protokollist\w*)")
SECRETARY_WEAK = r"\b(?:notes\s+taken\s+by)"
PLACE = re.compile(r"(?:\bvendi|\bvenue|\blocation)\s*:\s*|(?:^|(?<=\s)|(?<=n'))(?:(?:ne|te|in|at|n')\s*)?"
                   r"(?=(?:salla|sallen|salles|zyra|zyren|pallati|ambient\w*|council\s+hall|online)\b)")
MOVED = re.compile(r"(?:zhvendos\w*|transferua\w*|kaluam|kaluan|moved|relocated)\W+(?:\w+\W+){0,2}$")  # held elsewhere
PLANNED = re.compile(r"(?:caktuar|planifikuar|parashikuar|scheduled)\W+(?:\w+\W+){0,5}$")  # the hall it was meant for
NOMINATIVE = {"sallën": "salla", "sallen": "salla", "zyrën": "zyra", "zyren": "zyra"}
NUMBER = re.compile(r"(?<![\d/.])(\d{1,2})\s*/\s*(\d{4})(?![\d/])")
NUMBER_CUE = re.compile(r"(?:\bnr|\bmbl|mbledhj\w*|\bmeeting(?:\s+no)?|\bno|takim\w*|procesverbal\w*)\W{0,4}$")
PAST_CUE = re.compile(r"(?:ecuri\w*|detyr\w*|vendime\w*|nga|from|kaluar|kaluem\w*|tasks|follow-up)\W+(?:\w+\W+){0,3}$|"
                      r"procesverbali\s+(?:i|e)\s+mbledhjes\W+(?:\w+\W+){0,1}$")  # its minutes (an earlier meeting), not the header

ORDINAL = {"pare": 1, "dyte": 2, "trete": 3, "katert": 4, "peste": 5, "gjashte": 6}


@dataclass
class Found:
    value: str
    start: int
    end: int
    score: float


def repair_digits(text: str) -> str:
    """OCR letters standing for digits inside numbers ('l1:20', 'o9:50', '28.0l.2025'); same length as `text`."""
    return OCR_DIGIT.sub(lambda m: "1" if m[0] in "lI" else "0", text)


def place_weight(pos: int, size: int) -> float:
    """The header opens the notes and the signature closes them: cues there count more."""
    frac = pos / max(size, 1)
    return 1.5 if frac < 0.2 else 1.0 if frac > 0.9 else 0.4 if frac < 0.35 else 0.0


def _best(found: list[Found]) -> Found | None:
    return max(found, key=lambda f: (f.score, -f.start)) if found else None


def _line_span(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def person_near(text: str, start: int, end: int) -> re.Match | None:
    """The first person's name in text[start:end], titles and institution words skipped."""
    for m in PERSON.finditer(text, start, end):
        if not NOT_GIVEN.match(fold(m[0])):
            return m
        inner = PERSON.match(text, m.start() + len(m[0].split()[0]) + 1)  # 'Bashkise Dritan Hoxholli' -> 'Dritan Hoxholli'
        if inner and not NOT_GIVEN.match(fold(inner[0])) and inner.end() <= end:
            return inner
    return None


def named_role(text: str, cue: str, weak: str | None = None) -> Found | None:
    """A person named by a cue: after it ('drejtoi: z. X'), before it ('X, sekretare teknike'), or below it in a
    signature block ('Procesmbajtëse:' over the name)."""
    f, found = fold(text), []
    for pattern, strength in ((cue, 2.0), (weak, 1.0)):
        if not pattern:
            continue
        for c in re.finditer(pattern, f):
            ls, le = _line_span(text, c.start())
            colon = re.match(r"\s*:", f[c.end():])
            score = strength + place_weight(c.start(), len(text)) + (1.0 if colon else 0.0)
            after = person_near(text, c.end(), min(c.end() + 70, le))
            if not after and not colon:  # prose wrapped at the cue: 'Mbledhjen e drejtoi\nKryetarja ..., znj. X'
                after = person_near(text, c.end(), c.end() + 70)
            if after and not re.search(r"[|;]|\n\s*\n", text[c.end():after.start()]):
                found.append(Found(" ".join(after[0].split()), after.start(), after.end(), score))
                continue
            before = [m for m in PERSON.finditer(text, max(ls, c.start() - 45), c.start())
                      if not NOT_GIVEN.match(fold(m[0])) and re.fullmatch(r"[\s,(–-]*(?:\w+\s*){0,2}", text[m.end():c.start()])]
            if before:
                m = before[-1]
                found.append(Found(m[0], m.start(), m.end(), score - 0.5))
                continue
            below = _below(text, le, c.start() - ls) if colon else None
            if below:
                found.append(Found(below[0], below.start(), below.end(), score))
    return _best(found)


def _below(text: str, line_end: int, column: int) -> re.Match | None:
    """The name on the next non-empty line, nearest the column of the cue (two-column signature blocks)."""
    pos = line_end + 1
    while pos < len(text) and text.find("\n", pos) == pos:
        pos += 1
    ls, le = _line_span(text, pos)
    names = [m for m in PERSON.finditer(text, ls, le) if not NOT_GIVEN.match(fold(m[0]))]
    return min(names, key=lambda m: abs(m.start() - ls - column)) if names else None


def meeting_number(text: str) -> Found | None:
    f, found = fold(repair_digits(text)), []
    for m in NUMBER.finditer(f):
        before = f[max(0, m.start() - 40):m.start()]
        ls, _ = _line_span(f, m.start())
        score = place_weight(m.start(), len(f)) + (3.0 if NUMBER_CUE.search(before[-16:]) else 0.0)
        score += 1.0 if re.search(r"mbledhj|mbl\b|meeting|kvsp|kksb", f[ls:m.start()]) else 0.0
        if PAST_CUE.search(before):
            score -= 4.0
        if score > 0.5:
            found.append(Found(f"{int(m[1])}/{m[2]}", m.start(), m.end(), score))
    for m in re.finditer(r"mbledhj\w*\s+(?:e|se)\s+(\d{1,2}|" + "|".join(ORDINAL) + r")(?:-?\w*)?\s+(?:e\s+)?(?:rregullt\s+)?"
                         r"(?:e|te|per)\s+(?:vitit|vitin|vjetit)\s+(\d{4})", f):
        num = ORDINAL.get(m[1], m[1])
        found.append(Found(f"{int(num)}/{m[2]}", m.start(), m.end(), 1.0 + place_weight(m.start(), len(f))))
    return _best(found)


def _times(text: str):
    """Every clock time of the notes with the clause it stands in: (hh:mm, start, end, clause start, clause end)."""
    repaired = repair_digits(text)
    f = fold(repaired)
    for m in list(TIME.finditer(repaired)) + list(HOUR.finditer(f)):
        ls, le = _line_span(text, m.start())
        cuts = [c for c in CLAUSE.finditer(f, ls, le)]
        cs = max([c.end() for c in cuts if c.end() <= m.start()], default=ls)
        ce = min([c.start() for c in cuts if c.start() >= m.end()], default=le)
        if m.re is HOUR:
            value = f"{int(m[1]):02d}:{'30' if m[2] else '00'}"
            if int(m[1]) > 23:
                continue
        else:
            value = f"{int(m[1]):02d}:{m[2]}"
        yield value, m.start(), m.end(), cs, ce


def _nearest_cue(clause: str, at: int) -> str | None:
    """The field whose cue stands nearest before the time in its clause ('thirr për 09:30 dhe filloi 09:40'),
    else nearest after it ('16:05 mbyll')."""
    cues = [(m.start(), m.end(), key) for key, cue in TIME_CUES.items() for m in re.finditer(cue, clause)]
    if not cues:
        return None
    before = [c for c in cues if c[1] <= at]
    return max(before, key=lambda c: c[1])[2] if before else min(cues, key=lambda c: c[0] - at)[2]


def _clause_before(f: str, found: list, cs: int, ls: int) -> int | None:
    """The start of the clause before the one opening at `cs` on its line, when no time stands in it."""
    if cs <= ls:
        return None
    cuts = [c.end() for c in CLAUSE.finditer(f, ls, max(ls, cs - 1)) if c.end() < cs - 1]
    start = max(cuts, default=ls)
    return None if any(start <= x[1] < cs for x in found) else start


def times(text: str) -> dict[str, Found]:
    """Scheduled, actual start and end times from the cue words of their clause; a late arrival or an early leave
    is no meeting time. The first scheduled and start cue win, the last end cue."""
    f = fold(repair_digits(text))
    out: dict[str, list[Found]] = {k: [] for k in TIME_CUES}
    found = list(_times(text))
    for value, s, e, cs, ce in found:
        clause = f[cs:ce]
        ls, le = _line_span(f, s)
        if not any(re.search(cue, clause) for cue in TIME_CUES.values()) and \
                sum(ls <= x[1] < le for x in found) == 1:
            cs, clause = ls, f[ls:le]  # '10:12 – fillon': the only time of its line takes the line's cue
        if EVENT.search(clause) and not re.search(TIME_CUES["start_time"] + "|" + TIME_CUES["end_time"], clause):
            continue
        key = _nearest_cue(clause, s - cs)
        if not key:  # 'filloi me dhjetë minuta vonesë, në orën 14:10': the cue in the clause before, if it has no time
            before = _clause_before(f, found, cs, ls)
            key = _nearest_cue(f[before:cs], cs - before) if before is not None and not EVENT.search(f[before:cs]) else None
        if key:
            out[key].append(Found(value, s, e, s if key == "end_time" else -s))
    best = {k: _best(v) for k, v in out.items()}
    best = {k: v for k, v in best.items() if v}
    if "start_time" not in best or "end_time" not in best:  # 'Ora: 10:00 – 12:15' in the head of the notes
        for m in re.finditer(r"(?:^|\W)ora\b\s*:?\s*", f):
            if m.start() > 0.3 * len(f):
                break
            ls, le = _line_span(f, m.end() - 1)  # the line of 'ora' (the match may open with the newline before it)
            taken = {b.start for b in best.values()}  # a time its own cue gave a field ('nisi 17:20') is no other
            found = [(v, s, e) for v, s, e, _, _ in _times(text) if m.end() <= s < le and s not in taken]
            if found:
                best.setdefault("start_time", Found(found[0][0], found[0][1], found[0][2], 0))
                if len(found) > 1:
                    best.setdefault("end_time", Found(found[-1][0], found[-1][1], found[-1][2], 0))
                break
    if "scheduled_time" in best and "start_time" in best and best["scheduled_time"].start == best["start_time"].start:
        del best["scheduled_time"]
    return best


def _building_before(text: str, f: str, ls: int, cue: int) -> int | None:
    """Where a packed line's segment opens when it names a building before the hall: the segment after the last
    ' – ' / ' | ' separator, of capitalised words and a comma only, with no digit ('Qendra Kulturore X, ')."""
    seps = [c.end() for c in re.finditer(r"\s+[|–—]\s+|\s+-\s+", f[ls:cue])]
    if not seps:
        return None
    start = ls + seps[-1]
    words = text[start:cue].strip(" ,").split()
    if not words or re.search(r"\d", text[start:cue]) or not all(w[:1].isupper() or w in ("e", "i", "të", "së") for w in words):
        return None
    return start


def place(text: str) -> Found | None:
    f, found = fold(text), []
    for m in PLACE.finditer(f):
        ls, le = _line_span(f, m.start())
        if not f[m.end():le].split()[1:] and f[le + 1:le + 2].strip():  # prose wrapped after 'në zyrën': read on
            le = _line_span(f, le + 1)[1]
        labelled = ":" in m[0]
        seg_end = min([c.start() for c in re.finditer(r"\s+[|–—]\s+|\s+-\s+|\.\s+|\.$|\s*\(\s*(?:ora|per)\b|;|"
                                                      r",\s*(?:ora|me\s+fillim|filloi|kryeson|drejt|dhe\b)|,?\s+(?:por|sepse|pasi)\b", f[m.end():le])]
                      or [le - m.end()])
        value = " ".join(text[m.end():m.end() + seg_end].split()).strip(" ,.:")
        if not value or len(value) > 110:
            continue
        value = re.sub(r"^\s*(?:ora\s+)?\d{1,2}:\d{2}\s*", "", value)
        start = m.end()
        building = _building_before(text, f, ls, m.start()) if not labelled else None
        if building is not None:  # '– Qendra Kulturore Ujëbardhë, salla B': the hall of a building named first
            value, start = text[building:m.end()].strip() + " " + value, building
        first = value.split()[0]
        value = NOMINATIVE.get(first.lower(), first) + value[len(first):]
        score = (3.0 if labelled else 1.0) + place_weight(m.start(), len(f)) + (0.5 if m.start() == ls else 0.0)
        clause = f[max(ls, m.start() - 40):m.start()]
        score += 1.5 if MOVED.search(clause) else -1.0 if PLANNED.search(clause) else 0.0
        found.append(Found(value[:1].upper() + value[1:], start, m.end() + seg_end, score))
    best = _best(found)
    return best if best and best.score >= 2.0 else None


def date(text: str) -> Found | None:
    repaired = repair_digits(text)
    f, found = fold(repaired), []
    for ls_m in re.finditer(r"[^\n]+", repaired):
        line = ls_m[0]
        lf = fold(line)
        if "prot" in lf:
            continue
        for s, e, d in find_dates(line):
            pos = ls_m.start() + s
            before = lf[max(0, s - 25):s]
            score = place_weight(pos, len(f)) + (2.0 if re.search(r"\bdat\w*\s*[:/]|\bdt\b|\bdate", before) else 0.0)
            score += 0.5 if re.search(r"\bsot\b|\bme\b|\bu\s+mbajt|\bmbledhj", before) else 0.0
            if re.search(r"\bderi|\bafat|\bpara\b|\bbrenda|\bby\b|\bkaluar|\bdatës|\bdates", before):
                score -= 2.0
            found.append(Found(d.isoformat(), pos, ls_m.start() + e, score))
    best = _best(found)
    return best if best and best.score > 0 else None
