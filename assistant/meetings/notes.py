"""A secretary's raw notes (or a formal procesverbal's text) -> a structured Meeting.

Line-based rules: section headers switch what the following items are (attendance, agenda,
discussion of item N, decisions, tasks); labelled lines ("Data:", "kuorumi:", "mungojnë:") and
time-stamped events ("10:40 – vjen X") fill single fields. Every value remembers the character
spans of the note lines it came from (`Meeting.trace`), so the draft can cite them.
"""
import re
from dataclasses import asdict, dataclass, field
import datetime as dt

from assistant.meetings import agenda, attendance, gazetteer, header, resolutions
from assistant.meetings.dates import parse_date
from assistant.meetings.gazetteer import fold
from ingest.albanian import markers

UP, LO = "A-ZÇËÉ", "a-zçëé"
INITIAL = r"(?:Dh|Gj|Ll|Nj|Rr|Sh|Th|Xh|Zh|[A-ZÇË])\."
SURNAME = rf"[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?"
NAME = re.compile(rf"(?<![\w.])(?:{INITIAL}\s?{SURNAME}|[{UP}][{LO}]+\s+{SURNAME}(?![\w]))")
TIME = re.compile(r"(?<![\d.:])([01]?\d|2[0-3])[:.]([0-5]\d)(?![\d]|\.\d)")
BULLET = re.compile(rf"^\s*(?:(?:{markers.SIGN}+|{markers.CHECKBOX}|{markers.NUMBER}|{markers.LETTER}|V\d+\s*[–:-]|Vendimi\s+nr\.\s*\d+\s*:)\s*)+")
DEFERRED = re.compile(r"\b(?:shty(?:het|hen|hej|jme|re|ne)|u\s+shty\w*|mbet\w*\s+per\s+(?:mbledhjen|here)|kalon\s+per\s+mbledhjen|"
                      r"do\s+te\s+(?:diskutohet|shqyrtohet|miratohet|trajtohet)\s+ne\s+mbledhjen\s+e\s+(?:radhes|ardhshme|pare)|"
                      r"postponed|deferred)\b")
APPROVED = re.compile(r"\b(?:adopted|approved|u\s+miratua|miratohet|miratuar|miratimi|miratimin)\b")
NO_DECISION = re.compile(r"(?:pa\s+vendim|s'u\s+votua|nuk\s+u\s+votua|do\s+(?:te\s+)?shihet|do\s+ta\s+shohim|"
                         r"do\s+(?:te\s+)?shqyrtohet|pa\s+afat\b)")
LINKING_WORDS = {"me", "e", "i", "te", "se", "nga", "deri", "date", "data", "ne", "para", "pas", "prej", "mes", "dhe",
                 "ose", "deri", "afat", "afati", "nje"}  # words a date may follow as it is: 'deri më 14.03'
HEADER_FIELDS = ("date", "meeting_number", "place", "chair", "secretary", "scheduled_time", "start_time", "end_time")
AGENDA_ITEM = re.compile(r"^\s*(?:[IVX]{1,4}[.)]|\(?[a-h]\)|\(?\d{1,2}[.)](?!\d)|\d{1,2}\.\d{1,2}\.?|[-–—]\s*\d{1,2}\s*[-–—]|"
                         r"[-–—•*·]+|\d{1,2}(?=\s+[^\W\d]))\s+")  # 1. / 2.1. / (1) / a) / I. / - 1 - / "1 vjedhjet" / "1<tab>…"
HEADING_PREFIX = re.compile(r"^(?:#{1,6}\s*|\d{1,2}:\d{2}\s*[–—-]\s*|pika\s+\d{1,2}\.?\s*[–—:-]?\s*)")  # "## ", "10:12 – ", "Pika 2."
# a decision written inline: 'u vendos: ...', 'VENDIM: ...', 'vendosi: ...'; a line opening with 'miratohet'
INLINE_DECISION = re.compile(r"^\s*(?:(u\s+vendos\w*\s*:?|vendim\w*\s*:|vendosi\s*:|konkluz\w*\s*:|decided\s*:?|agreed\s*:)\s*"
                             r"|(?=miratohet\b|miratohen\b|ngrihet\b|ngarkohet\b))")
SECTION = [  # (kind, regex on the folded line without its numbering)
    ("agenda", r"^(?:rendi\b|rendi i dites|agenda|pikat e rendit)"),
    ("decisions", r"^(?:vendime|vendimet|vendimi\b|decisions|u\s+vendos|vendosi\b|konkluz\w*|vendim\b)"),
    ("tasks", r"^(?:detyr|follow-up|follow up|kush cfare|veprime|to-?do|action)|^detyrat,"),
    ("present", r"^(?:(?:anetar\w*\s+)?(?:te\s+|e\s+)?pran\s*ishem|prezen[ct]|present|pjesemarres|"
                r"anetar\w*\s*$|members\s*$)"),  # "Anëtarë:" alone lists the members who came
    ("absent", r"^(?:(?:anetar\w*\s+)?(?:qe\s+)?(?:r?n|m)(?:ungojne|unguan|ungesa|ungese|ungon)|absent)"),
    ("invited", r"^(?:(?:te|i|e)\s+ftuar|invited|guests?\b)"),
    ("deferred", r"^(?:(?:ceshtje|ceshtjet|pika|pikat)\s+(?:e\s+|te\s+)?shtyra|te\s+shtyra|deferred|postponed)"),
]


@dataclass
class Person:
    name: str
    institution: str | None = None
    time: str | None = None


@dataclass
class Meeting:
    municipality: str | None = None
    meeting_number: str | None = None
    date: str | None = None
    scheduled_time: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    place: str | None = None
    chair: str | None = None
    secretary: str | None = None
    present: list[Person] = field(default_factory=list)
    absent: list[Person] = field(default_factory=list)
    invited: list[Person] = field(default_factory=list)
    late: list[Person] = field(default_factory=list)
    left_early: list[Person] = field(default_factory=list)
    quorum: dict | None = None
    agenda: list[str] = field(default_factory=list)
    discussion: list[dict] = field(default_factory=list)  # {"item": n, "lines": [{"text", "start", "end"}]}
    decisions: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    proposals_without_decision: list[str] = field(default_factory=list)
    unread: list[dict] = field(default_factory=list)  # note lines no field took: {"text", "start", "end"}
    trace: dict[str, list[list[int]]] = field(default_factory=dict)  # "date", "present.2" -> [[start, end]]

    def to_dict(self) -> dict:
        return asdict(self)

    def meeting_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.date) if self.date else None

    def people(self) -> list[Person]:
        return self.present + self.invited + self.absent


def meeting_from_dict(data: dict) -> Meeting:
    """A Meeting from its JSON form (the secretary's corrected copy)."""
    people = {k: [Person(**{f: p.get(f) for f in ("name", "institution", "time")}) for p in data.get(k) or []
                  if isinstance(p, dict)] for k in ("present", "absent", "invited", "late", "left_early")}
    plain = {k: data.get(k) for k in Meeting.__dataclass_fields__ if k not in people and k in data}
    for k in ("agenda", "decisions", "deferred", "proposals_without_decision", "discussion", "unread"):
        plain[k] = list(plain.get(k) or [])
    plain["trace"] = dict(plain.get("trace") or {})
    return Meeting(**plain, **people)


@dataclass
class Line:
    text: str  # the content, bullet and numbering removed
    start: int  # span of `text` in the notes
    end: int
    raw: str
    number: int | None  # its list number, "3." -> 3


# markdown emphasis and code marks: '**Vendi:** …', '_Mbyllur në 19:05._'; a '* ' bullet is no emphasis
EMPHASIS = re.compile(r"\*\*|__|`|(?<![\w*])[*_](?=[^\s*_])|(?<=[^\s*_])[*_](?![\w*])")


def blank_emphasis(text: str) -> str:
    """Markdown marks blanked in place (same length): cues and word boundaries read through them,
    and every span still points into the original text, which is what is shown and cited."""
    return EMPHASIS.sub(lambda m: " " * len(m[0]), text)


def split_lines(text: str) -> list[Line]:
    out, pos = [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        m = BULLET.match(body)
        cut = m.end() if m else len(body) - len(body.lstrip())
        content = body[cut:].rstrip()
        num = re.match(r"\s*(\d{1,2})[.)](?!\d)", body)
        if content:
            out.append(Line(content, pos + cut, pos + cut + len(content), body, int(num[1]) if num else None))
        pos += len(raw)
    return out


def hhmm(m: re.Match) -> str:
    return f"{int(m[1]):02d}:{m[2]}"


def clean_name(name: str) -> str:
    return " ".join(name.split())


def parse_person(text: str) -> tuple[Person, int] | None:
    """'imam F. Lleshi – Myftinia' -> Person('F. Lleshi', 'Myftinia'); None when it does not start with a name."""
    s = text.strip()
    lead = re.match(r"((?:" + "|".join(re.escape(h) for h in gazetteer.honorifics()) + r")\s+)+", s, re.I)
    offset = lead.end() if lead else 0
    m = NAME.match(s, offset)
    if not m:
        return None
    rest = s[m.end():]
    inst = None
    paren = re.match(r"\s*\(([^)]*)\)", rest)
    if paren:
        inst = re.split(r"\s+[–—-]\s+", paren[1])[0]
    else:
        inst = re.sub(r"^\s*(?:[–—-]|,|:)\s*", "", rest) if re.match(r"\s*(?:[–—-]|,|:)", rest) else None
        if inst:
            inst = re.split(r"\s+[–—]\s+|\s+\(", inst)[0]
    inst = inst.strip(" .;,") if inst else None
    return Person(clean_name(m[0]), inst or None), m.start()


def split_people(text: str) -> list[tuple[str, int]]:
    """Split an inline list at ';' or at commas followed by a (titled) name; (part, offset) pairs."""
    seps = [m.end() for m in re.finditer(r";\s*", text)]
    if not seps:
        depth, seps = 0, []
        for i, c in enumerate(text):
            depth += c == "("
            depth -= c == ")"
            if c == "," and depth == 0 and parse_person(text[i + 1:].strip()):
                seps.append(i + 1)
    bounds = [0, *seps, len(text) + 1]
    parts = []
    for a, b in zip(bounds, bounds[1:]):
        part = text[a:b - 1 if b <= len(text) else b].strip(" ,;")
        if part:
            parts.append((part, a + (len(text[a:]) - len(text[a:].lstrip(" ,;")))))
    return parts


def formalize(text: str, ref: dt.date | None = None) -> str:
    """Notes shorthand -> the written form kept in the structured meeting: '+' -> 'dhe', cross-references
    '(shih P3)' dropped, a day.month after a noun completed with its year and article ('takimi 23.01' ->
    'takimi i 23.01.2025'), the Gheg elided particles written out ("n'ndihmë t'shërbimit" -> 'në ndihmë të
    shërbimit'; "t'i" is standard), an OCR 'rn' opening a word read as the 'm' it was ('Rniratohet')."""
    text = re.sub(r"\s+\+\s+", " dhe ", text)
    text = re.sub(r"(?<![\w'])([nN])'(?=[^\W\d])", r"\1ë ", text)
    text = re.sub(r"(?<![\w'])([tT])'(?!(?:i|u|a|ia|ua)\b)(?=[^\W\d])", r"\1ë ", text)
    text = re.sub(r"(?<![\w])([Rr])n(?=[aeiouëbp])", lambda m: "M" if m[1] == "R" else "m", text)  # no word opens with 'rn'
    text = re.sub(r"\s*\((?:shih\s+)?(?:P|pika\s*)\d+\)", "", text)
    if ref:
        def complete(m: re.Match) -> str:
            day, month = (int(x) for x in m[2].split("."))
            words = m[1].split()
            if not 1 <= month <= 12 or fold(words[-1]) in LINKING_WORDS:
                return m[0]
            year = ref.year if (month, day) <= (ref.month, ref.day) else ref.year - 1  # a past date in the notes
            if not parse_date(f"{day}.{month}.{year}"):
                return m[0]
            head = next((w for w in reversed(words) if w.endswith(("i", "a"))), "i")
            return f"{m[1]} {'e' if head.endswith('a') else 'i'} {m[2]}.{year}"
        text = re.sub(r"\b((?:[a-zçë]+\s+){0,2}[a-zçë]{3,})\s+(\d{1,2}\.\d{1,2})(?![\d.])", complete, text)
    text = re.sub(r"(?<=\S) {2,}", " ", text).strip(" .;")  # runs left by blanked markdown marks
    return text[:1].upper() + text[1:]


def _section(line: Line) -> str | None:
    f = fold(re.sub(r"^\d{1,2}(?:\.\d{1,2})*\.?\s+|^\d{1,2}\.\s*", "", line.text))
    f = HEADING_PREFIX.sub("", f)
    if len(f) > 70 and not f.rstrip().endswith(":"):
        return None
    for kind, pattern in SECTION:
        if re.search(pattern, f):
            return kind
    return attendance.heading_group(f)


def _people_label(label: str) -> str | None:
    """'Të pranishëm' -> present, 'Mungesa' -> absent, 'I ftuar' -> invited."""
    f = fold(label).strip()
    for kind, pattern in SECTION:
        if kind in ("present", "absent", "invited") and re.search(pattern, f):
            return kind
    return None


def _item_number(line: Line) -> int | None:
    m = re.match(r"(?:\d{1,2}:\d{2}\s*[–—-]\s*)?(?:P|pika\s*|pika e\s*)(\d{1,2})\b", line.text, re.I)
    return int(m[1]) if m else None


class _Parser:
    def __init__(self, text: str):
        self.original = text
        self.text = blank_emphasis(text)
        self.m = Meeting()
        self.lines = split_lines(self.text)
        self.sentences = resolutions.sentences(self.text)

    def note(self, key: str, line: Line | tuple[int, int]):
        span = [line.start, line.end] if isinstance(line, Line) else list(line)
        self.m.trace.setdefault(key, []).append(span)

    def add_person(self, group: str, person: Person, span: tuple[int, int], prefix: str | None = None):
        """Add to present/absent/invited; `prefix` names the body the listed people represent ('SKN')."""
        people = getattr(self.m, group)
        if any(fold(p.name) == fold(person.name) for p in people):
            return
        if prefix:
            person.institution = f"{prefix} ({person.institution})" if person.institution else prefix
        else:
            person.institution = gazetteer.expand(person.institution) if person.institution else None
        people.append(person)
        self.note(f"{group}.{len(people) - 1}", span)

    def people_in(self, group: str, text: str, start: int, prefix: str | None = None):
        for part, off in split_people(text):
            parsed = parse_person(part)
            if not parsed:
                continue
            person, _ = parsed
            self.add_person(group, person, (start + off, start + off + len(part)), prefix)

    def known(self, name: str) -> Person | None:
        """A person already listed, by full name or surname ('Merkaj' -> 'Y. Merkaj')."""
        f = fold(name)
        for p in self.m.people():
            if fold(p.name) == f or fold(p.name).split()[-1] == f.split()[-1]:
                return p
        return None

    def run(self) -> Meeting:
        m, lines = self.m, self.lines
        self.header(lines[:15])
        self.header_lines = {tuple(span) for key in HEADER_FIELDS for span in m.trace.get(key, [])}
        self.placed: list[tuple[int, int]] = []  # lines read as structure (headings, quorum, events)
        mode, item = None, None
        prev_end = 0
        for line in lines:
            t, f = line.text, fold(line.text)
            prev_end, line_gap_end = line.end, prev_end  # the end of the line before, for blank-line checks
            kind = _section(line)
            label = re.match(r"([^:]{2,40}):\s*(.*)$", t)
            if self.timed_event(line):
                self.placed.append((line.start, line.end))
                continue
            if re.match(r"kuor(?:\s*u?(?:m|rn)|\.)", f):
                self.quorum(line)
                self.placed.append((line.start, line.end))
                mode = None
                continue
            if (kind == "agenda" or re.match(r"(?:rendi|agenda)\w*(?:\s+i\s+dites)?\s*:", f)) and self.inline_agenda(line):
                mode = None
                continue
            if kind and mode == "decisions" and (APPROVED.search(f) or BULLET.match(line.raw)) and not t.rstrip().endswith(":"):
                kind = None  # "1. Agenda adopted.", " – rendi i ditës – ok" among the decisions are decisions, no heading
            if kind == "decisions" and label and label[2].strip():
                self.inline_decisions(line, line.start + label.start(2), label[2])
                continue
            if kind and not (mode == "agenda" and line.number and kind != "agenda"):
                inline = label[2] if label and kind in ("present", "absent", "invited") else ""
                mode, item = kind, None
                self.placed.append((line.start, line.end))
                if inline and parse_person(inline.strip()):
                    self.people_in(kind, inline, line.start + label.start(2))
                continue
            if label and re.fullmatch(r"skn|sekretariati", fold(label[1]).strip()) and parse_person(label[2].strip()):
                self.people_in("invited", label[2], line.start + label.start(2), "SKN")
                continue
            group = label and _people_label(label[1])
            if group and parse_person(label[2].strip()):
                self.people_in(group, label[2], line.start + label.start(2))
                mode = group
                continue
            if mode in ("present", "absent", "invited"):
                parsed = parse_person(t)
                if parsed:
                    self.add_person(mode, parsed[0], (line.start, line.end))
                    continue
                if not line.raw.startswith((" ", "\t")) and not BULLET.match(line.raw):
                    mode = None
            if (line.start, line.end) in self.header_lines:
                continue  # a header line ("16:05 mbyll", "Shënoi: X") is no agenda item, decision or discussion
            if mode == "agenda" and m.agenda and self.text.count("\n", line_gap_end, line.start) >= 2:
                mode = None  # a blank line closes the agenda list
            if mode == "agenda":
                if self.agenda_item(line):
                    continue
                if not m.agenda:
                    continue
                mode = None
            n = _item_number(line)
            if n and mode not in ("decisions", "tasks"):
                mode, item = "discussion", n
                rest = re.sub(r"^(?:\d{1,2}:\d{2}\s*[–—-]\s*)?(?:P|pika\s*(?:e\s*)?)\d{1,2}\.?\s*[–—:-]?\s*", "", t,
                              flags=re.I)
                self.discuss(item, line, rest)
                continue
            if mode == "decisions":
                self.decision(line)
                continue
            if mode == "deferred":
                self.add_line("deferred", line, line.text)
                continue
            if INLINE_DECISION.search(f):
                self.inline_decisions(line, line.start, t)
                continue
            if mode == "tasks":
                self.flags(line)
                continue
            if mode == "discussion" and item:
                self.discuss(item, line, t)
                continue
            self.flags(line)
        if not m.agenda:  # announced in a sentence of a narrative record
            for item in agenda.in_prose(self.text) or agenda.discussed(self.text):
                self.add_agenda(item.text, (item.start, item.end))
        self.inline_resolutions()
        self.chair_present()
        self.attendance_in_prose()
        m.unread = self.unread()
        return m

    def inline_resolutions(self):
        """Decisions recorded in the sentences of the discussion that no heading or labelled line gave."""
        m = self.m
        taken = [tuple(span) for key, spans in m.trace.items() if key.split(".")[0] in ("decisions", *HEADER_FIELDS)
                 for span in spans]
        for r in resolutions.read(self.text):
            if any(s < r.end and r.start < e for s, e in taken) or DEFERRED.search(fold(r.text)) or \
                    any(_same_topic(d, r.text) for d in m.decisions + m.deferred):
                continue  # given by a heading or a labelled line, or a deferral
            m.decisions.append(gazetteer.expand(formalize(r.text, m.meeting_date()), abbreviations=False))
            self.note(f"decisions.{len(m.decisions) - 1}", (r.start, r.end))

    def attendance_in_prose(self):
        """People named under an attendance cue anywhere (prose, packed lines, tables) the lists did not give."""
        listed = {fold(p.name) for p in self.m.people()}
        for seen in attendance.read(self.text):
            if fold(seen.name) in listed:
                continue
            listed.add(fold(seen.name))
            self.add_person(seen.group, Person(seen.name, seen.institution), (seen.start, seen.end), seen.prefix)

    def unread(self) -> list[dict]:
        """Note lines that no field, heading or discussion took (a draft must show them, not assert an absence)."""
        spans = [tuple(s) for v in self.m.trace.values() for s in v] + self.placed + \
                [(x["start"], x["end"]) for d in self.m.discussion for x in d["lines"]]
        spans += [(d["start"], d["end"]) for d in self.m.discussion if "start" in d]
        return [{"text": self.original[x.start:x.end], "start": x.start, "end": x.end} for x in self.lines
                if not any(s < x.end and x.start < e for s, e in spans)]

    def agenda_item(self, line: Line) -> bool:
        """A numbered, lettered, roman or bulleted line under the agenda heading is an item."""
        item = AGENDA_ITEM.match(line.raw)
        if not (item or line.number or BULLET.match(line.raw)):
            return False
        text = line.raw[item.end():].strip() if item else line.text
        text = text.split("\t")[0].strip()  # a tab-separated row: the item is its first cell ("1<tab>Pika<tab>Relator")
        if not text:
            return False
        start = line.start + line.text.find(text) if text in line.text else line.start
        self.add_agenda(text, (start, start + len(text)))
        return True

    def add_agenda(self, text: str, span: tuple[int, int]):
        self.m.agenda.append(formalize(text, self.m.meeting_date()))
        self.note(f"agenda.{len(self.m.agenda) - 1}", span)

    def inline_agenda(self, line: Line) -> bool:
        """'rendi: 1) shkollat 2) zjarret 3) te ndryshme', 'Rendi i ditës (miratuar): 1. … 2. …' -> the items."""
        colon = line.text.find(":")
        items = agenda.enumeration(line.text[colon + 1:], line.start + colon + 1)
        for item in items:
            self.add_agenda(item.text, (item.start, item.end))
        return bool(items)

    def inline_decisions(self, line: Line, start: int, text: str):
        """'u vendos: patrulla te shkollat; ndriçimi prioritet' -> one decision per ';' part."""
        cue = INLINE_DECISION.search(fold(text))
        if cue and cue.group(1):
            start, text = start + cue.end(), text[cue.end():]
        pos = 0
        for part in re.split(r";\s*", text):
            body = part.strip(" .")
            if body:
                off = start + text.find(body, pos)
                pos = off - start + len(body)
                self.decision(Line(body, off, off + len(body), body, None))

    def chair_present(self):
        """The chair (the mayor) is a voting member: present even when the notes list them only as chair."""
        m = self.m
        if not m.chair or self.known(m.chair) or not m.trace.get("chair"):
            return
        s, e = m.trace["chair"][0]
        line = self.text[s:e]
        role = re.search(r"\b(Kryetar\w*(?:\s+e|\s+i)?(?:\s+Bashkisë)?)", line)
        m.present.insert(0, Person(m.chair, role[1] if role else None))
        m.trace = {(_shift(k) if k.startswith("present.") else k): v for k, v in m.trace.items()}
        self.note("present.0", (s, e))

    def header(self, lines: list[Line]):
        """Municipality from the head; the other header fields wherever their best-supported cue stands."""
        m = self.m
        for line in lines:
            b = re.search(rf"\bBashkia\s+([{UP}][{LO}]+(?:-[{UP}][{LO}]+)?)", line.text)
            k = re.search(rf"\bKVSP\s+([{UP}][{UP}{LO}-]+)", line.text)
            if b or k:
                m.municipality = f"Bashkia {b[1] if b else k[1].capitalize()}"
                self.note("municipality", line)
                break
        found = {"date": header.date(self.text), "meeting_number": header.meeting_number(self.text),
                 "place": header.place(self.text), "chair": header.named_role(self.text, header.CHAIR),
                 "secretary": header.named_role(self.text, header.SECRETARY, header.SECRETARY_WEAK),
                 **header.times(self.text)}
        for key, value in found.items():
            if value:
                setattr(m, key, value.value)
                self.note(key, self.line_of(value.start))

    def line_of(self, pos: int) -> tuple[int, int]:
        """The span of the note line holding `pos`: a field's source is the line it was read from."""
        return next(((x.start, x.end) for x in self.lines if x.start - 8 <= pos <= x.end), (pos, pos + 1))

    def timed_event(self, line: Line) -> bool:
        """Lines with a clock time: start, scheduled, end, late arrival, early leave."""
        m, t, f = self.m, line.text, fold(line.text)
        times = list(TIME.finditer(t))
        if not times:
            return False
        handled = False
        arrive = re.search(r"\b(?:vjen|erdhi|mberrin|mberriti|arrin|arriti|u\s+bashkua|bashkohet|hyn)\b", f)
        leave = re.search(r"\b(?:largohet|u\s+largua|iku|ikën|ike[nt]|del\b|doli\b)", f)
        if (arrive or leave) and times:
            at = (arrive or leave).end()
            nm = NAME.search(t, at) or re.search(rf"\b({SURNAME})\b", t[at:])
            before = [x for x in NAME.finditer(t, 0, (arrive or leave).start()) if attendance.is_person(x[0])]
            if before and (not nm or nm.re is not NAME):
                nm, at = before[-1], 0
            if nm:
                raw = nm[0] if nm.re is NAME else nm[1]
                parsed = parse_person(t[nm.start() if nm.re is NAME else at + nm.start(1):])
                known = self.known(raw)
                name = known.name if known else (parsed[0].name if parsed else raw)
                inst = known.institution if known else (parsed[0].institution if parsed else None)
                person = Person(name, gazetteer.expand(inst) if inst and not known else inst, hhmm(times[0]))
                group = "late" if arrive else "left_early"
                getattr(m, group).append(person)
                self.note(f"{group}.{len(getattr(m, group)) - 1}", line)
                if arrive and not any(fold(p.name) == fold(name) for p in m.present + m.invited):
                    m.present.append(Person(name, person.institution))
                    self.note(f"present.{len(m.present) - 1}", line)
                    self.drop_absent(name)
                self.flags(line)
                return True
        return handled

    def drop_absent(self, name: str):
        """Someone listed absent who then arrived attended the meeting."""
        m = self.m
        keep = [i for i, p in enumerate(m.absent) if fold(p.name) != fold(name)]
        if len(keep) == len(m.absent):
            return
        m.trace = {**{k: v for k, v in m.trace.items() if not k.startswith("absent.")},
                   **{f"absent.{new}": m.trace[f"absent.{old}"] for new, old in enumerate(keep)
                      if f"absent.{old}" in m.trace}}
        m.absent = [m.absent[i] for i in keep]

    def quorum(self, line: Line):
        f = fold(line.text)
        q: dict = {}
        nums = re.search(r"(\d{1,3})\s*(?:/|nga|prej|of)\s*(\d{1,3})", f)
        if nums:
            q["present_at_start"], q["members_total"] = int(nums[1]), int(nums[2])
        req = re.search(r"(?:duhen|minimumi|minimum|nevojiten|kerkohen|prej)\s*(\d{1,3})", f)
        if req:
            q["required"] = int(req[1])
        if re.search(r"\b(?:ok|plotesuar|plotesohet|ka\s+kuorum|i\s+vlefshem|e\s+vlefshme|met)\b", f):
            q["met"] = True
        if re.search(r"\b(?:s'ka|nuk\s+ka|nuk\s+plotesohet|mungon)\b", f):
            q["met"] = False
        if q:
            self.m.quorum = q
            self.note("quorum", line)

    def discuss(self, item: int, line: Line, rest: str):
        entry = next((d for d in self.m.discussion if d["item"] == item), None)
        if entry is None:
            entry = {"item": item, "lines": []}
            self.m.discussion.append(entry)
        rest = rest.strip()
        if rest and not re.fullmatch(rf"[{UP}{LO}. ]+\s*(?:\([^)]*\))?\s*:?", rest):  # not just "Qose (SKN):"
            start = line.start + line.text.find(rest)
            entry["lines"].append({"text": re.sub(r"(?<=\S) {2,}", " ", rest), "start": start, "end": start + len(rest)})
        elif rest:
            entry.setdefault("speaker", rest.rstrip(":"))
        self.flags(line)

    def decision(self, line: Line):
        """One line of the decisions: a deferred one goes to the deferred items, a lead-in ('vendosi:') is none;
        telegraphic 'ok X' reads 'Miratohet X'."""
        t = line.text
        raw = line.raw.lstrip()
        if t.rstrip().endswith(":"):
            return
        t = re.sub(r"^ok\s+", "Miratohet ", t, flags=re.I)
        t = re.sub(r"^(.+?)\s*[–—-]+\s*ok\.?$", r"Miratohet \1", t, flags=re.I)  # 'rendi i ditës – ok'
        if raw.startswith(("✘", "✗")) or re.match(r"x\s", t, re.I):
            self.add_line("deferred", line, re.sub(r"^x\s+", "", t, flags=re.I))
            return
        if DEFERRED.search(fold(t)):  # 'kullotat – shtyhen' under the decisions: decided to defer, so both
            self.add_line("deferred", line, t)
        t = resolutions.nominative(t)  # 'vendosi: miratimin e …' -> 'Miratimi i …'
        self.m.decisions.append(gazetteer.expand(formalize(t, self.m.meeting_date()), abbreviations=False))
        self.note(f"decisions.{len(self.m.decisions) - 1}", line)

    def flags(self, line: Line):
        """Deferred items and proposals left without a decision, wherever the notes mention them."""
        f = fold(line.text)
        if DEFERRED.search(f):
            self.add_line("deferred", line, self.sentence_of(line, DEFERRED))
        elif NO_DECISION.search(f):
            self.add_line("proposals_without_decision", line, self.sentence_of(line, NO_DECISION))

    def sentence_of(self, line: Line, cue: re.Pattern) -> str:
        """The whole sentence holding the cue when hard-wrapped prose carries it over the line's ends."""
        for s, e in self.sentences:
            if s < line.end and line.start < e and cue.search(fold(self.text[s:e])) and e - s <= 400:
                s = line.start if s < line.start and "\n" not in self.text[s:line.start] else s  # not its bullet
                if s < line.start or e > line.end:
                    return " ".join(self.text[s:e].split())
                break
        return line.text

    def add_line(self, key: str, line: Line, text: str):
        if len(text) > 120:  # prose: the sentence that says it, not the paragraph
            text = next((x for x in re.split(r"(?<=[a-zçë]{3})\.\s+|;\s+", text)
                         if DEFERRED.search(fold(x)) or NO_DECISION.search(fold(x))), text)
        ref = re.match(r"(?:P|pika\s*)(\d{1,2})\b", text, flags=re.I)
        if ref and 0 < int(ref[1]) <= len(self.m.agenda):  # 'Pika 3 shtyhet' -> the agenda item it names
            text = f"{self.m.agenda[int(ref[1]) - 1]} – {text[ref.end():].strip(' .:–-()')}"
        text = re.sub(r"^(?:P|pika\s*)\d{1,2}\s*[.:–-]\s*", "", text, flags=re.I)  # item reference
        for _ in range(2):  # a time stamp and a sender, then a speaker: '[10:48] Drilon Berisha: Shala: …'
            text = re.sub(rf"^(?:\[?\d{{1,2}}:\d{{2}}\]?\s*[–—-]?\s*)?(?:[{UP}][{LO}]+\s+)?[{UP}][{LO}]+(?:\s*\([^)]*\))?:\s*",
                          "", text)
        text = formalize(text, self.m.meeting_date())
        items = getattr(self.m, key)
        for i, old in enumerate(items):
            if _same_topic(old, text):
                if len(text) > len(old):
                    items[i] = text
                self.note(f"{key}.{i}", line)
                return
        items.append(text)
        self.note(f"{key}.{len(items) - 1}", line)


def _shift(key: str) -> str:
    group, i = key.split(".")
    return f"{group}.{int(i) + 1}"


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) >= 4}


def _same_topic(a: str, b: str) -> bool:
    sa, sb = _stems(a), _stems(b)
    short = min(len(sa), len(sb))
    return bool(short) and len(sa & sb) / short >= 0.6


def parse_meeting(text: str) -> Meeting:
    """Notes or formal minutes -> Meeting (fields the text is silent on stay None / [])."""
    return _Parser(text).run()
