"""Attendance read wherever it is written: a label or a cue ('ishin:', 'prez:', 'morën pjesë', 'S'kanë ardhë:',
'Also present, non-voting:', 'Nga SKN ishin') opens a region that runs to the next cue or the end of the
sentence; every person's name in it belongs to that group, the words up to the next name are their institution.
Table rows (pipe or tab cells) with a status cell ('prezent', 'mungon', 'SKN') are read the same way.
"""
import re
from dataclasses import dataclass

from assistant.meetings import gazetteer
from assistant.meetings.gazetteer import fold
from assistant.meetings.header import NOT_GIVEN, PERSON

CUES = [  # (group, folded cue); the SKN and invited cues are tried before the present ones they contain
    ("skn", r"\bskn\b(?:\s+members)?\s*(?::|[–—-]\s)|(?:prej|nga)\s+skn\w*(?:-se)?\s*(?:ishin\b)?:?|anetare\s+te\s+sekretariatit"),
    ("invited", r"(?:\b(?:te|i|e)\s+)?\bftua?r\w*\s*:?|\bftuem\b|\binvited\b\s*:?|also\s+present\w*(?:,?\s*non-voting)?\s*:?|"
                r"pa\s+te\s+drejte\s+vote\s*:?|non-voting\s*:?|\bguests?\s*:"),
    ("absent", r"(?:\bx\s+)?\b(?:r?n|m)ung\w*\s*:?|s'kane\s+ardh\w*\s*:?|nuk\s+erdh\w*|nuk\s+moren\s+pjese|\babsent\b\s*:?|"
               r"apologies\s*:?|\bmissing\s*:"),
    ("present", r"\bte\s+pran\s*ishem\w*(?:\s*\([^)]*\))?\s*:?|\bpranishem\w*\s*:?|\bprez\w*\s*:|\bprezent\w*\s*:?|"
                r"\bishin\b\s*:?|moren\s+pjese|\bmembers\s+present[^:]{0,20}:|\bpresent\s*:|pjesemarr\w*\s*:|"
                r"\berdhen\b\s*:|\battendees?\b[^:\n]{0,20}:|\bne\s+salle\s*:"),
]
HONORIFIC_END = re.compile(r"(?:^|\s)(?:z|znj|zj|dr|mr|mrs|ms)\.$", re.I)  # '…, z.' wraps before the name
SENTENCE_END = re.compile(r"(?<=[a-zçë)]{3})\.\s+(?=[A-ZÇË][a-zçë]+\s+[a-zçë(]|(?:Z|Znj|Zj|Dr)\.\s)|\.\s*$|\n\s*\n")
STATUS = [("absent", r"mung"), ("invited", r"skn|ftuar|invited"), ("present", r"prez|pranish|present")]


@dataclass
class Seen:
    group: str  # present / absent / invited
    name: str
    institution: str | None
    start: int
    end: int
    prefix: str | None = None  # 'SKN' for the secretariat


def is_person(name: str) -> bool:
    """A name, not a title or an institution written in capitals ('Policia Bashkiake', 'Dhoma Ekonomike')."""
    f = fold(name)
    if any(w in gazetteer.institution_words() for w in re.findall(r"[a-z']+", f)):
        return False
    return not NOT_GIVEN.match(f) and not gazetteer.find_bodies(name) and not re.search(
        r"\b(?:emergjenc|dhom|kish|shoqat|bashkesi|forum|komitet|stacion|njesi|sherbim|gjykat|prokurori|myftini|"
        r"drejtori|qendr|fondacion|lagj|shkoll|civil|bashkiak|kulture|tregti|radio|publik)", f)


def _in_brackets(text: str, pos: int, start: int) -> bool:
    """Inside '( … )' opened after `start`: 'I. Prifti (Pol Bashk)' brackets an institution, not a person."""
    return text.rfind("(", start, pos) > text.rfind(")", start, pos)


def names_in(text: str, start: int, end: int) -> list[re.Match]:
    out = []
    for m in PERSON.finditer(text, start, end):
        if _in_brackets(text, m.start(), start):
            continue
        if is_person(m[0]):
            out.append(m)
        else:  # 'Kryetarja Arta Gjonbalaj': the name may follow the first word
            inner = PERSON.match(text, m.start() + len(m[0].split()[0]) + 1)
            if inner and inner.end() <= end and is_person(inner[0]):
                out.append(inner)
    return out


def _institution(chunk: str) -> str | None:
    inst = re.sub(r"^[\s,(–—:-]*(?:nga|prej|from|i|e)?\s+", "", " " + chunk)
    inst = re.split(r"\)|\s+[–—-]\s+|;|\|", inst)[0].strip(" ,.;:()")
    return inst or None


def people(text: str, group: str, start: int, end: int, prefix: str | None = None) -> list[Seen]:
    found = names_in(text, start, end)
    out = []
    for m, nxt in zip(found, found[1:] + [None]):
        inst = _institution(text[m.end():nxt.start() if nxt else end])
        out.append(Seen(group, " ".join(m[0].split()), inst, m.start(), m.end(), prefix))
    return out


def _paragraph_end(text: str, pos: int) -> int:
    """Where the line holding `pos` ends, carried over the next lines while they continue it: a line ending
    in a comma, or a hard-wrapped prose line (long, no closing '.' or ':')."""
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        line = text[text.rfind("\n", 0, nl) + 1:nl].rstrip()
        nxt = text[nl + 1:text.find("\n", nl + 1) if text.find("\n", nl + 1) >= 0 else len(text)].strip()
        if not nxt or not (line.endswith(",") or HONORIFIC_END.search(line) or
                           (len(line) >= 60 and not line.endswith((".", ":")))):
            return nl
        pos = nl + 1


def regions(text: str) -> list[tuple[str, int, int]]:
    """(group, start, end) for every attendance cue: from the cue to the next cue or the end of its sentence."""
    f = fold(text)
    hits, taken = [], []
    for group, cue in CUES:
        for c in re.finditer(cue, f):
            if any(s < c.end() and c.start() < e for s, e in taken):
                continue
            taken.append((c.start(), c.end()))
            hits.append((c.start(), c.end(), group))
    hits.sort()
    kept = []
    for hit in hits:  # 'të ftuarve, pa të drejtë vote, morën pjesë X': the general cue after a specific one adds none
        if kept and hit[2] == "present" and kept[-1][2] != "present" and not names_in(text, kept[-1][1], hit[0]):
            continue
        kept.append(hit)
    hits = kept
    out = []
    for (s, e, group), nxt in zip(hits, hits[1:] + [None]):
        stop = SENTENCE_END.search(text, e)
        end = min(stop.start() if stop else len(text), nxt[0] if nxt else len(text), _paragraph_end(text, e))
        out.append((group, e, end))
    return out


def heading_group(folded_line: str) -> str | None:
    """The group a heading line names with a cue anywhere in it ('Në takim morën pjesë anëtarët e KKSB-së:')."""
    if not folded_line.rstrip().endswith(":") or len(folded_line) > 90:
        return None
    for group, cue in CUES:
        m = re.search(cue, folded_line)
        tail = folded_line[m.end():].rstrip()[:-1] if m else ""
        if m and "," not in tail and len(tail.split()) <= 4:  # the cue heads the line's phrase, not a modifier of it
            return "invited" if group == "skn" else group
    return None


def table_rows(text: str) -> list[Seen]:
    """Rows of a pipe or tab table whose cells hold one person's name and a status word."""
    out = []
    for row in re.finditer(r"[^\n]+", text):
        cells = [c for c in re.finditer(r"[^|\t]+", row[0]) if c[0].strip()]
        if len(cells) < 3:
            continue
        names = [c for c in cells if PERSON.fullmatch(c[0].strip()) and is_person(c[0].strip())]
        status = next((g for c in cells for g, cue in STATUS if re.match(rf"\s*(?:i\s+|e\s+)?(?:{cue})", fold(c[0]))
                       and len(c[0].strip()) < 20), None)
        if len(names) == 1 and status:
            n = names[0]
            nxt = cells[cells.index(n) + 1] if cells.index(n) + 1 < len(cells) else None
            s = row.start() + n.start() + (len(n[0]) - len(n[0].lstrip()))
            out.append(Seen(status, n[0].strip(), nxt[0].strip() if nxt else None, s, s + len(n[0].strip()),
                            "SKN" if status == "invited" and "skn" in fold(row[0]) else None))
    return out


def read(text: str) -> list[Seen]:
    """Everyone the notes name in an attendance cue's region or an attendance table row."""
    out = table_rows(text)
    for group, start, end in regions(text):
        prefix = "SKN" if group == "skn" else None
        out += people(text, "invited" if group == "skn" else group, start, end, prefix)
    return out
