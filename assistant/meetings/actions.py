"""Action items (what, who, by when, where in the text) from notes, formal minutes and task tables.

Three sources, tried in order: task tables (doc.tables from the DOCX/PDF ingestors), table rows
stored as "Header: cell; Header: cell" blocks in a text, and the lines of a notes' task section
("detyra", "follow-up", "kush çfarë"). Look-alikes are dropped: deferred items, proposals without
a decision, offers ("mund të"), wishes, ongoing work, reports of past work, and progress tables (a "Statusi" column).
"""
import re
from dataclasses import dataclass
from datetime import date

from assistant.meetings import gazetteer, prose_tasks
from assistant.meetings.dates import Deadline, find_deadline
from assistant.meetings.gazetteer import fold
from assistant.meetings.notes import (DEFERRED, NAME, NO_DECISION, Line, _section, blank_emphasis, formalize, parse_meeting,
                                      split_lines)
from ingest.albanian import morphology
from ingest.formats.text import tables_in

TASK_COL = re.compile(r"detyr|aktivitet|veprim|masa\b|cfare|action|task")
OWNER_COL = re.compile(r"pergjegj|institucion|kush|zbatues|owner|responsible")
DUE_COL = re.compile(r"afat|deadline|kur\b|due")
STATUS_COL = re.compile(r"status|ecuri|realizim|koment|gjendj")  # a table of how past tasks stand
PAST = re.compile(r"\b(?:u\s+(?:be|bene|realizua|krye|dergua|nenshkrua|zhvillua|perfundua|vendos)|perfundoi|perfunduan|"
                  r"perfunduar|realizuar|nenshkruar|eshte\s+bere|jane\s+bere|ishte)\b")
PROPOSAL = re.compile(r"\bpropozim\b|\bpropozon\b")
LOOKS_LATER = re.compile(r"\bdo\s+te\s+shihet")  # "do të shihet": to be looked at, not a task
COMMITMENT = re.compile(r"\b(?:detyre|detyrohet|ngarkohet|ngarkon|merr\s+persiper|do\s+te|duhet\s+te|afat\w*|deri|brenda)\b")
LABELLED = re.compile(r"(?:^|;\s+|\s[–—]\s+)([^\W\d][^:;\n]{0,40}?)\s*:\s+")  # 'A: x; B: y', 'task – A: x – B: y'
NOT_OWNER_PAREN = re.compile(r"(?:te|tek|per|ne|pa|me|nga|dhe|ose|shih)\b")
INITIALS_NAME = re.compile(r"(?:[A-ZÇË]\.\s?){1,2}[A-ZÇË][a-zçë]+(?:-[A-ZÇË][a-zçë]+)?")  # 'L. Prendi', 'J. Reeve'
NAME_END = re.compile(r"\s*(?:[:;,+/&(–—]|->|→|=>|\s-\s|\bdhe\b|\bdh\b|\bto\b|$)")
OWNER_JOIN = re.compile(r"\s*(?:[/+,&]|\bdhe\b|\bdh\b)\s*")  # 'KP + ZVA', 'KP (Shehu) dh Pol Bashk'



@dataclass
class ActionItem:
    action: str
    owner: list[str]
    due: date | None
    due_text: str | None
    start: int
    end: int
    quote: str

    def to_dict(self, document_id: str | None = None) -> dict:
        source = {"start": self.start, "end": self.end, "quote": self.quote}
        if document_id:
            source = {"document_id": document_id, **source}
        return {"action": self.action, "owner": self.owner, "due": self.due.isoformat() if self.due else None,
                "due_text": self.due_text, "source": source}


def action_from_dict(data: dict) -> ActionItem:
    """An ActionItem from its JSON form (as sent back by the secretary's form)."""
    src = data.get("source") or {}
    due = data.get("due")
    return ActionItem(str(data.get("action") or ""), [str(o) for o in data.get("owner") or []],
                      date.fromisoformat(due) if due else None, data.get("due_text"),
                      int(src.get("start") or 0), int(src.get("end") or 0), str(src.get("quote") or ""))


def extract_actions(text: str, meeting_date: date | None = None, tables: list | None = None,
                    weights: dict[str, float] | None = None) -> list[ActionItem]:
    """Action items of `text`; relative deadlines count from `meeting_date`, else the date the text gives.
    `tables` are the ingest Table objects of a stored document (their row spans point into `text`);
    `weights` replace the sentence reader's (bench/fit_tasks.py scores a fit on the other styles)."""
    meeting = parse_meeting(text)
    ref = meeting_date or meeting.meeting_date()
    items = _from_tables(text, tables if tables is not None else tables_in(text), ref)  # typed notes: their own
    if items:
        return items
    items = _from_labelled_rows(text, ref)
    if items:
        return items
    surnames = {fold(p.name).split()[-1] for p in meeting.people() if p.name}
    items = _from_lines(text, ref, surnames)
    if any(kind == "tasks" for kind in _kinds(_lines(text))):
        return items
    return _with_prose(text, ref, items, _people(meeting), weights)


def _people(meeting) -> dict[str, str]:
    """Surname -> institution of everyone the attendance lists: the owners a sentence may name."""
    return {fold(p.name).split()[-1]: p.institution or "" for p in meeting.people() if p.name}


def prose_evidence(text: str) -> list[tuple[prose_tasks.Sentence, prose_tasks.Evidence]]:
    """The sentences the sentence reader scores in a text without tables (none when its tasks are labelled
    rows or a task section), each with its evidence: what bench/fit_tasks.py fits the weights on."""
    meeting = parse_meeting(text)
    if _from_labelled_rows(text, None) or any(kind == "tasks" for kind in _kinds(_lines(text))):
        return []
    ref, people = meeting.meeting_date(), _people(meeting)
    diacritics = not morphology.typed_without_diacritics(text)
    return [(s, prose_tasks.evidence(s, ref, people, diacritics, in_list)) for s, in_list in prose_tasks.listed(text)]


def _with_prose(text: str, ref: date | None, items: list[ActionItem], people: dict[str, str],
                weights: dict[str, float] | None = None) -> list[ActionItem]:
    """Tasks written in sentences, and the line items no sentence task covers, in text order: a sentence
    read whole names every owner of "QPS dhe DSHMS obligohen të …", a line read by its layout may not."""
    diacritics = not morphology.typed_without_diacritics(text)
    prose = []
    for sentence, in_list in prose_tasks.listed(text):
        task = prose_tasks.read(sentence, ref, people, diacritics, weights, in_list)
        if task:
            where = task.sentence
            prose.append(ActionItem(formalize(task.action), task.owner, task.deadline.due, task.deadline.due_text,
                                    where.start, where.start + len(where.text), where.text))
    rest = [i for i in items if not any(p.start < i.end and i.start < p.end for p in prose)]
    return sorted(prose + rest, key=lambda i: i.start)


# ---------- tables ----------
def _columns(header: list[str]) -> dict[str, int] | None:
    """Which column holds the task, owner and deadline; None for a table that is not a task list."""
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        f = fold(cell)
        if STATUS_COL.search(f):
            return None
        for key, pattern in (("task", TASK_COL), ("owner", OWNER_COL), ("due", DUE_COL)):
            if key not in cols and pattern.search(f):
                cols[key] = i
                break
    return cols if "task" in cols and ("owner" in cols or "due" in cols) else None


def _row_item(text: str, span: tuple[int, int], cells: dict[str, str], ref: date | None) -> ActionItem | None:
    task = " ".join((cells.get("task") or "").split())
    if not task:
        return None
    owners = [o.strip() for o in re.split(r"\s*[;\n+]\s*", cells.get("owner") or "") if o.strip()]  # 'KP + ZVA'
    due_cell = " ".join((cells.get("due") or "").split())
    deadline = find_deadline(due_cell, ref) if due_cell else Deadline(None, None, None)
    start, end = _locate(text, span, task)
    return ActionItem(task, owners, deadline.due, due_cell or None, start, end, text[start:end])


def _locate(text: str, span: tuple[int, int], needle: str) -> tuple[int, int]:
    """The span of `needle` inside text[span] (whitespace-tolerant), else the whole span."""
    s, e = span
    pattern = r"\s+".join(re.escape(w) for w in needle.split())
    m = re.compile(pattern).search(text, s, e)
    return (m.start(), m.end()) if m else (s, e)


def _from_tables(text: str, tables: list, ref: date | None) -> list[ActionItem]:
    items = []
    for table in tables:
        if not table.rows or table.header_rows < 1:
            continue
        cols = _columns(table.rows[0])
        if cols is None:
            continue
        for row, span in zip(table.rows[table.header_rows:], table.spans[table.header_rows:]):
            if span is None:
                continue
            cells = {k: row[i] if i < len(row) else "" for k, i in cols.items()}
            item = _row_item(text, tuple(span), cells, ref)
            if item:
                items.append(item)
    return items


def _from_labelled_rows(text: str, ref: date | None) -> list[ActionItem]:
    """Rows stored as 'Nr.: 1; Detyra: …; Institucioni përgjegjës: …; Afati: …' (one per line)."""
    items, pos = [], 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        labels = list(LABELLED.finditer(line))
        if len(labels) >= 2:
            header = [m[1] for m in labels]
            values = []
            for i, m in enumerate(labels):
                end = labels[i + 1].start() if i + 1 < len(labels) else len(line)
                values.append(line[m.end():end])
            lead = re.sub(r"^\s*\d{1,2}(?:\.\d{1,2})*[.)]?\s+", lambda m: " " * len(m[0]), line[:labels[0].start()])
            if lead.strip() and not any(TASK_COL.search(fold(h)) for h in header):
                header, values = ["detyra", *header], [lead, *values]  # '6.1 Hartimi … – Përgjegjës: … – Afati: …'
            cols = _columns(header)
            if cols:
                cells = {k: values[i] for k, i in cols.items()}
                item = _row_item(text, (pos, pos + len(line)), cells, ref)
                if item:
                    items.append(item)
        pos += len(raw)
    return items


# ---------- notes ----------
def _kinds(lines: list) -> list[str | None]:
    """The section each line is in ("tasks", "decisions", ...), "header" for a section's own heading."""
    kinds, kind = [], None
    for line in lines:
        section = _section(line)
        if section == "tasks" and re.search(r":\s*\S", line.text):
            section = None  # "Detyrë për sekretaren: procesverbali …" is one task, not a heading
        kind = section or kind
        kinds.append(kind if not section else "header")
    return kinds


def _lines(text: str) -> list[Line]:
    """The note lines as read through markdown marks ('**Detyrat:**' is the tasks heading)."""
    return split_lines(blank_emphasis(text))


def _from_lines(text: str, ref: date | None, surnames: set[str]) -> list[ActionItem]:
    lines = _lines(text)
    kinds = _kinds(lines)
    has_tasks = "tasks" in kinds
    items = []
    for line, kind in zip(lines, kinds):
        f = fold(line.text)
        if kind == "header" or re.match(r"\d{1,2}:\d{2}\b", line.text):
            continue
        if has_tasks and kind != "tasks":
            continue
        if not has_tasks and not (kind == "decisions" or COMMITMENT.search(f)):
            continue
        if any(cue.search(f) for cue in (DEFERRED, NO_DECISION, PAST, PROPOSAL, prose_tasks.OFFER, prose_tasks.WISH,
                                         prose_tasks.ONGOING, LOOKS_LATER)):
            continue
        item = _line_item(text[line.start:line.end], line.start, ref, surnames)  # the original, quoted as written
        if item and ((item.owner or item.due_text) if has_tasks else (item.owner and item.due_text)):
            items.append(item)
    return items


def _owner_at(t: str, pos: int, surnames: set[str]) -> int | None:
    """End of an owner name starting at `pos` ('ZVA', 'KP Lumëz', 'Komisariati (Malaj)', 'Muça'), else None."""
    rest = t[pos:]
    hits = [h for h in gazetteer.find_bodies(rest) if h[0] == 0]
    word = re.match(r"[\wÇËçë.-]+", rest)
    short = re.match(r"[^:;,+/&(–—\n]{2,40}?(?=" + NAME_END.pattern + ")", rest)  # 'Dr. Shërb. Publike', 'sekr tek'
    if short and gazetteer.abbreviated(short[0]) and not (hits and max(h[1] for h in hits) >= short.end()):
        end = short.end()
    elif INITIALS_NAME.match(rest):
        end = INITIALS_NAME.match(rest).end()
    elif hits:
        end = max(h[1] for h in hits)
    elif word and gazetteer.is_abbreviation(word[0]):
        end = word.end()
    elif word and fold(word[0]).strip(".") in surnames:
        end = word.end()
    else:
        name = NAME.match(rest)
        if not name or fold(name[0]).split()[-1] not in surnames:
            return None
        end = name.end()
    place = re.match(r"\s+[A-ZÇË][a-zçë]+(?![\w.])", rest[end:])
    if place and not gazetteer.find_bodies(place[0].strip()):
        end += place.end()
    paren = re.match(r"\s*\(([^()]{1,40})\)", rest[end:])
    if paren and not NOT_OWNER_PAREN.match(fold(paren[1])):
        end += paren.end()
    return pos + end


def _owner_parts(text: str, surnames: set[str]) -> list[tuple[int, int]]:
    """The owners of a text that is nothing but owners joined by '+', ',', 'dhe' ('**ZVA + NJMF**'), else []."""
    bounds = [0] + [x for sep in OWNER_JOIN.finditer(text) for x in (sep.start(), sep.end())] + [len(text)]
    parts = [(a, b) for a, b in zip(bounds[::2], bounds[1::2]) if text[a:b].strip()]
    if not parts or not all(_whole_owner(text[a:b], surnames) for a, b in parts):
        return []
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in parts]


def _whole_owner(part: str, surnames: set[str]) -> bool:
    part = part.strip(" ,.;:")
    if not part:
        return False
    end = _owner_at(part, 0, surnames)
    return end is not None and not part[end:].strip(" ,.;:")


def _line_item(line: str, offset: int, ref: date | None, surnames: set[str]) -> ActionItem | None:
    t = blank_emphasis(line)  # "**KP (Topi)** – …"
    deadline = find_deadline(t, ref)
    dl = deadline.span or (len(t), len(t))
    owners: list[tuple[int, str]] = []

    def add(start: int, end: int):
        name = t[start:end].strip(" ,.;:")
        if name and not any(fold(name) == fold(o) for _, o in owners) and not (dl[0] <= start < dl[1]):
            owners.append((start, name))

    body_start = 0
    head = re.match(r"^(.{1,60}?)\s*(?:(?<!\d):(?!\d)|->|→|=>)\s*", t)
    if head:
        seps = list(OWNER_JOIN.finditer(head[1]))
        bounds = [0] + [x for sep in seps for x in (sep.start(), sep.end())] + [len(head[1])]
        parts = list(zip(bounds[::2], bounds[1::2]))
        if parts and all(_whole_owner(head[1][a:b], surnames) or not head[1][a:b].strip() for a, b in parts):
            for a, b in parts:
                if head[1][a:b].strip():
                    lead = len(head[1][a:b]) - len(head[1][a:b].lstrip())
                    add(a + lead, b)
        body_start = head.end()
    if not owners:
        end = _owner_at(t, body_start, surnames)
        if end and re.match(r"\s+[a-zçë]|\s*[–:,]|\s*(?:[+&]|\bdhe\b|\bdh\b)", t[end:]):
            add(body_start, end)
            while (join := OWNER_JOIN.match(t, end)) and (more := _owner_at(t, join.end(), surnames)):
                add(join.end(), more)  # 'KP dhe Prokuroria përgatisin …'
                end = more
    had_head_owner = bool(owners)
    for m in re.finditer(r"\bnga\s+", t):
        end = _owner_at(t, m.end(), surnames)
        if end:
            add(m.end(), end)
    for m in re.finditer(r"[^–—]+", t[body_start:]) if not had_head_owner else ():
        seg_start = body_start + m.start()
        seg = t[seg_start:body_start + m.end()]
        cut = seg
        if dl[0] < seg_start + len(seg) and dl[1] > seg_start:
            cut = seg[:max(0, dl[0] - seg_start)]
        for a, b in _owner_parts(cut.rstrip(" ,.;"), surnames):
            add(seg_start + a, seg_start + b)
    for m in re.finditer(r"\(([^()]{1,50})\)", t):
        if not NOT_OWNER_PAREN.match(fold(m[1])) and _whole_owner(m[1], surnames):
            if not any(s <= m.start() < s + len(o) for s, o in owners):
                add(m.start(1), m.end(1))
    owners.sort()
    action = _action_text(t, body_start, deadline, [o for _, o in owners])
    if not action or _only_names(t[body_start:], [o for _, o in owners]):
        return None  # 'Shënoi: R. Bici, sekretare teknike', 'signed off: K. Sinani': who, but nothing to do
    quote = line.strip()
    return ActionItem(action, [o for _, o in owners], deadline.due, deadline.due_text, offset, offset + len(quote), quote)


def _only_names(body: str, owners: list[str]) -> bool:
    """The text holds the owners and nothing else but role words ('sekretare teknike') and punctuation."""
    for name in sorted(owners, key=len, reverse=True):
        body = body.replace(name, " ")
    rest = [w for w in re.findall(r"[^\W\d_]{3,}", body) if not gazetteer.lookup(w) and not gazetteer.abbreviated(w)]
    return bool(owners) and not rest


def _action_text(t: str, body_start: int, deadline: Deadline, owners: list[str]) -> str:
    """The task in words: the line without its owner prefix and deadline, separators tidied."""
    body = t
    if deadline.span:
        body = body[:deadline.span[0]] + body[deadline.span[1]:]
    head = t[:body_start]
    if body_start and any(o in head for o in owners):
        body = body[body_start:]
    body = re.sub(r"\s*([–—,;])(?:\s*[–—,;])+", r" \1", body)  # separators left around a removed deadline
    body = re.sub(r"\s+([,;])", r"\1", body)
    body = re.sub(r",\s*\(", " (", body)
    body = re.sub(r"\s*\(\s*\)", "", body)
    body = re.sub(r"\s+", " ", body).strip(" ,;:–—-.")
    return formalize(body) if body else ""
