"""Plan-table extraction: a council plan's table (any column order, merged or multi-line
headers, tables split over pages) -> standard plan rows with their source span.

Pure functions over a parsed or stored document (`.text`, `.tables`); the words that name
columns and priorities are data (data/plan_headers.json, data/priorities.json).
"""
import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.search.albanian import fold
from ingest.albanian import markers

DATA = Path(__file__).resolve().parents[1] / "data"
LEVELS = ("i lartë", "i moderuar", "i ulët")
LIST_FIELDS = ("activities", "responsible", "partners")
_WORD = re.compile(r"[a-z0-9#]+")
# a list marker at the start of a line: "1.", "2)", "a)", "-", "•"
_NUMBER = re.compile(rf"^\s*{markers.NUMBERED}\s*")
_BULLET = re.compile(rf"^\s*(?:{markers.SIGN}|{markers.LETTER})\s+")
_INLINE_NUMBER = re.compile(r"(?:^|(?<=[\s;.]))(\d{1,2})[.)]\s+(?=\S)")
# a wrapped line continues when the previous one ends in a particle, a preposition or an open bracket
_CONNECTORS = {"e", "i", "te", "se", "dhe", "per", "me", "ne", "nga", "ose", "apo", "si", "mbi", "deri", "tek",
               "te", "ndaj", "pa", "prej", "midis", "mes", "qe", "a", "edhe", "nje", "ku", "sipas", "pas", "para"}
_TERMINAL = (".", ";", ":", "!", "?")


@dataclass
class PlanRow:
    nr: str
    problem: str
    priority: str | None
    priority_as_written: str | None
    activities: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    deadline_text: str | None = None
    source: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache
def header_words() -> dict:
    return json.loads((DATA / "plan_headers.json").read_text(encoding="utf-8"))


@lru_cache
def priority_words() -> dict:
    return json.loads((DATA / "priorities.json").read_text(encoding="utf-8"))


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _find(words: list[str], keyword: str) -> int:
    """Position of `keyword` (one or more folded words, the last a prefix) in `words`, or -1."""
    parts = keyword.split()
    for i in range(len(words) - len(parts) + 1):
        head_ok = all(words[i + k] == p for k, p in enumerate(parts[:-1]))
        last, word = parts[-1], words[i + len(parts) - 1]
        if head_ok and (word == last or (len(last) >= 4 and word.startswith(last))):
            return i
    return -1


# ---------- priority ----------
def priority_levels(text: str | None) -> list[str]:
    """The distinct levels a text names, in order of appearance."""
    words, data = _words(text or ""), priority_words()
    found = []
    for i, word in enumerate(words):
        for level, stems in data["levels"].items():
            if any(word == s or (len(s) >= 4 and word.startswith(s)) for s in stems):
                if i and words[i - 1] in data["negations"]:
                    continue
                if level not in found:
                    found.append(level)
    return found


def normalise_priority(text: str | None) -> str | None:
    """'E lartë' / 'High' -> 'i lartë', 'Mesatare' -> 'i moderuar', 'E ulët' -> 'i ulët'; None when
    the text names no level or several."""
    levels = priority_levels(text)
    return levels[0] if len(levels) == 1 else None


# ---------- headers ----------
def header_field(text: str) -> str | None:
    """The field a header cell names: a strong field wherever its word appears, else the field
    whose word comes first ('Institucioni përgjegjës për realizimin e aktivitetit' -> responsible)."""
    words, data = _words(text), header_words()
    if not words:
        return None
    if any(_find(words, k) == 0 for k in data["ignore"]):
        return None
    best, best_pos = None, None
    for name, keywords in data["fields"].items():
        positions = [p for p in (_find(words, k) for k in keywords) if p >= 0]
        if not positions:
            continue
        if name in data["strong"]:
            return name
        if best_pos is None or min(positions) < best_pos:
            best, best_pos = name, min(positions)
    return best


def map_columns(header_rows: list[list[str]]) -> dict[int, str]:
    """{column: field} from one or more header rows; the texts of a column's header cells are
    joined, so merged and multi-line headers ('Institucionet' over 'Përgjegjëse' | 'Partnere') work."""
    width = max((len(r) for r in header_rows), default=0)
    columns = {}
    for c in range(width):
        parts = []
        for row in header_rows:
            cell = squash(row[c]) if c < len(row) else ""
            if cell and cell not in parts:
                parts.append(cell)
        name = header_field(" ".join(parts))
        if name:
            columns[c] = name
    if "activities" not in columns.values():  # 'Masat' may be the activity column itself
        columns = {c: "activities" if f == "measure" else f for c, f in columns.items()}
    return columns


def priority_columns(header_rows: list[list[str]], columns: dict[int, str]) -> dict[int, str]:
    """Priority given as sub-columns ('Prioriteti' over 'E lartë' | 'Mesatare' | 'E ulët', cells
    marked 'X'): {column: level}."""
    marked = {}
    for c, name in columns.items():
        if name == "priority":
            own = [squash(r[c]) for r in header_rows if c < len(r)]
            levels = priority_levels(own[-1] if own else "")
            if len(levels) == 1:
                marked[c] = levels[0]
    return marked if len(marked) >= 2 else {}


def _is_header_row(row: list[str]) -> bool:
    fields = [header_field(c) for c in row if squash(c)]
    return len({f for f in fields if f}) >= 2 and not re.fullmatch(r"\d+(\.\d+)*\.?", squash(row[0]) if row else "")


def _is_subheader_row(row: list[str]) -> bool:
    cells = [squash(c) for c in row]
    return bool(any(cells)) and not re.fullmatch(r"\d+(\.\d+)*\.?", cells[0]) and all(
        not c or header_field(c) or len(priority_levels(c)) == 1 for c in cells)


# ---------- cell lists ----------
def _starts_institution(line: str) -> bool:
    first = (_words(line) or [""])[0]
    raw = line.strip().split(" ")[0].strip("(),;")
    return first in header_words()["institution_heads"] or (len(raw) >= 2 and raw.isupper())


def _continues(prev: str, line: str, wrapped: bool, institutions: bool) -> bool:
    """Whether `line` goes on from `prev` (a wrapped line) rather than starting a new item."""
    if _NUMBER.match(line) or _BULLET.match(line):
        return False
    last = (_words(prev) or [""])[-1]
    if line[:1].islower() or prev.rstrip().endswith(("/", "-", "(", ",", "„", "“")) or last in _CONNECTORS:
        return True
    if prev.count("(") > prev.count(")"):
        return True
    if not wrapped or prev.rstrip().endswith(_TERMINAL):
        return False
    return not (institutions and _starts_institution(line))


def _clean_item(text: str) -> str:
    text = _NUMBER.sub("", text, count=1) if _NUMBER.match(text) else _BULLET.sub("", text, count=1)
    return squash(text).strip(" ;,").rstrip(".").strip()


def _split_inline_numbers(line: str) -> list[str]:
    """'1. X; 2. Y 3. Z' -> ['1. X;', '2. Y', '3. Z'] when the numbers run 1, 2, 3…"""
    marks = [m for m in _INLINE_NUMBER.finditer(line)]
    run, want = [], 1
    for m in marks:
        if int(m.group(1)) == want:
            run.append(m.start())
            want += 1
    if len(run) < 2 or run[0] != len(line) - len(line.lstrip()):
        return [line]
    return [line[a:b] for a, b in zip(run, run[1:] + [len(line)])]


def split_items(cell: str, wrapped: bool = False, institutions: bool = False) -> list[str]:
    """A list cell -> its items: numbered or bulleted items (lines that follow an item belong to
    it), else one item per line (joining wrapped lines), each line split at ';'. Institution
    lists also split at ', ' when every piece is an abbreviation or there are three or more."""
    lines = [piece for raw in (cell or "").split("\n") if raw.strip() for piece in _split_inline_numbers(raw.strip())]
    if not lines:
        return []
    numbered = [bool(_NUMBER.match(x)) for x in lines]
    bulleted = [bool(_BULLET.match(x)) for x in lines]
    starts = numbered if sum(numbered) >= 2 else bulleted if sum(bulleted) >= 2 else None
    items: list[str] = []
    if starts:  # numbered items own the lines after them, sub-bullets included
        for k, (line, is_start) in enumerate(zip(lines, starts)):
            if is_start or not any(starts[:k]):
                items.append(line)
            else:
                items[-1] += " " + line
    else:
        for line in lines:
            if items and _continues(items[-1], line, wrapped, institutions):
                items[-1] += " " + line
            else:
                items.append(line)
        items = [part for item in items for part in item.split(";")]
    if institutions:
        items = [part for item in items for piece in _split_commas(item) for part in _split_run_on(piece)]
    return [c for c in (_clean_item(i) for i in items) if c]


def _split_run_on(item: str) -> list[str]:
    """Names run together when a cell's lines were joined ('… Policisë Elbasan Prokuroria e Rrethit
    Gjyqësor Bashkia Elbasan'): a capitalised institution word after an ordinary word, outside
    brackets, starts the next name."""
    tokens = item.split(" ")
    parts, depth, current = [], 0, []
    for token in tokens:
        prev = current[-1] if current else ""
        starts = (current and depth == 0 and token[:1].isupper() and _starts_institution(token)
                  and (_words(prev) or [""])[-1] not in _CONNECTORS and not prev.endswith(("/", ",", "-", "(")))
        if starts:
            parts.append(" ".join(current))
            current = []
        current.append(token)
        depth = max(depth + token.count("(") - token.count(")"), 0)
    parts.append(" ".join(current))
    return [p for p in parts if p.strip()]


def _split_commas(item: str) -> list[str]:
    depth, pieces, current = 0, [], ""
    for ch in item:  # never split inside brackets
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += ch
    pieces = [p.strip() for p in pieces + [current] if p.strip()]
    if len(pieces) >= 3 or (len(pieces) == 2 and all(p.isupper() for p in pieces)):
        return pieces
    return [item]


# ---------- rows ----------
@dataclass
class _Draft:
    cells: dict[str, list[str]]
    start: int | None
    end: int | None


def _quote(text: str, start: int | None, end: int | None, fallback: str) -> tuple[int, int, str]:
    if start is not None and end is not None and 0 <= start < end <= len(text):
        return start, end, text[start:end]
    probe = squash(fallback)[:60]
    at = text.find(probe) if probe else -1
    if at < 0:
        return 0, 0, ""
    return at, at + len(probe), text[at : at + len(probe)]


def _build_row(draft: _Draft, number: int, wrapped: bool, levels_by_column: dict[str, str],
               text: str, document_id: str | None) -> PlanRow:
    cells = draft.cells

    def scalar(name: str, sep: str = " ") -> str:
        return squash(sep.join(x for x in cells.get(name, []) if squash(x)))

    written = scalar("priority", " – ") or None
    priority = normalise_priority(written)
    if levels_by_column:
        chosen = [lvl for lvl in levels_by_column.get("_marked", "").split("|") if lvl]
        if len(chosen) == 1:
            written, priority = chosen[0], chosen[0]
    lists = {name: [i for cell in cells.get(name, []) for i in split_items(cell, wrapped, name != "activities")]
             for name in LIST_FIELDS}
    problem = scalar("problem")
    start, end, quote = _quote(text, draft.start, draft.end, problem)
    source = {"document_id": document_id, "start": start, "end": end, "quote": quote}
    return PlanRow(nr=scalar("nr").rstrip(".") or str(number), problem=problem, priority=priority,
                   priority_as_written=written, deadline_text=scalar("deadline", " – ") or None,
                   source=source, **lists)


def _draft_from(row: list[str], columns: dict[int, str], marks: dict[int, str],
                span: tuple[int, int] | None) -> _Draft:
    cells: dict[str, list[str]] = {}
    for c, name in columns.items():
        value = row[c] if c < len(row) and row[c] else ""
        if c in marks:
            continue
        if value.strip() and value not in cells.get(name, []):  # merged cells repeat their text
            cells.setdefault(name, []).append(value)
    chosen = [lvl for c, lvl in marks.items() if c < len(row) and squash(row[c])]
    if chosen:
        cells["_marked"] = ["|".join(chosen)]
    return _Draft(cells, *(span or (None, None)))


def _merge(into: _Draft, more: _Draft) -> None:
    """A row continued on the next page: its cells carry on the same row's cells."""
    for name, values in more.cells.items():
        if name in into.cells and name != "_marked":
            into.cells[name][-1] = into.cells[name][-1].rstrip() + "\n" + "\n".join(values)
        else:
            into.cells[name] = list(values)
    if more.end is not None:
        into.start = into.start if into.start is not None else more.start
        into.end = more.end


def _is_section_row(row: list[str]) -> bool:
    """'Objektivi 1: …' merged across the whole table, or a label alone in the first cell."""
    cells = [squash(c) for c in row]
    filled = [c for c in cells if c]
    if len(filled) > 1:
        return len(set(filled)) == 1
    return len(row) > 2 and filled == cells[:1] and not re.fullmatch(r"\d+(\.\d+)*\.?", cells[0])


def rows_from_tables(tables, text: str, document_id: str | None = None, wrapped: bool = False) -> list[PlanRow]:
    """Plan rows from a document's tables. A table whose headers name a problem and activities
    (or a priority) is a plan table; a following table with the same columns and no header, or a
    repeated header, continues it; a row without number and problem continues the row above."""
    drafts: list[_Draft] = []
    columns: dict[int, str] = {}
    marks: dict[int, str] = {}
    width = 0
    for table in tables:
        rows = table.rows
        spans = list(table.spans) + [None] * (len(rows) - len(table.spans))
        first = next((i for i, r in enumerate(rows[:4]) if _is_header_row(r)), None)
        body = 0
        if first is not None:
            last = first
            while last + 1 < len(rows) and last + 1 < first + 3 and _is_subheader_row(rows[last + 1]):
                last += 1
            found = map_columns(rows[first : last + 1])
            fields = set(found.values())
            if "problem" in fields and fields & {"activities", "priority", "responsible"}:
                columns, marks = found, priority_columns(rows[first : last + 1], found)
                width, body = len(rows[first]), last + 1
            else:
                columns = {}
                continue
        elif not columns or max((len(r) for r in rows), default=0) != width:
            columns = {}
            continue
        for row, span in zip(rows[body:], spans[body:]):
            if not any(squash(c) for c in row) or _is_section_row(row):
                continue
            draft = _draft_from(row, columns, marks, span)
            key = "nr" if "nr" in columns.values() else "problem"
            if drafts and not draft.cells.get(key):
                _merge(drafts[-1], draft)
            elif draft.cells.get("problem") or draft.cells.get("activities"):
                drafts.append(draft)
    return [_build_row(d, n, wrapped, {"_marked": (d.cells.get("_marked") or [""])[0]} if marks else {},
                       text, document_id) for n, d in enumerate(drafts, 1)]


# ---------- plans written as text ----------
_LABEL = re.compile(r"^\s*(?:(\d+(?:\.\d+)*)[.)]\s*)?([^:\n]{2,60}?)\s*:\s*(.*)$")
_NUMBERED_TITLE = re.compile(r"^\s*(\d+(?:\.\d+)*)[.)]\s+(\S.*)$")


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for line in text.split("\n"):
        spans.append((at, at + len(line)))
        at += len(line) + 1
    return spans


def _pipe_tables(text: str):
    """Tables written with '|' or tabs (Markdown, pasted spreadsheets, HTML leftovers flattened)."""
    from ingest.model import Table
    tables, current = [], None
    for start, end in _line_spans(text):
        line = text[start:end]
        sep = "|" if line.count("|") >= 2 else "\t" if line.count("\t") >= 2 else None
        if sep is None or re.fullmatch(r"[\s|:\-+]*", line):
            if sep is None and current:
                tables.append(current)
                current = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(sep)]
        current = current or Table([], [], 1, 1)
        current.rows.append(cells)
        current.spans.append((start, end))
    if current:
        tables.append(current)
    return tables


def rows_from_labelled_text(text: str, document_id: str | None = None) -> list[PlanRow]:
    """Rows written as blocks of 'Label: value' lines ('Problematika: …', 'Prioriteti: …'); a
    repeated label or a numbered title line starts the next row; unlabelled lines continue the
    last field."""
    drafts: list[_Draft] = []
    current: _Draft | None = None
    last_field = None
    for start, end in _line_spans(text):
        line = text[start:end]
        if not line.strip():
            continue
        m = _LABEL.match(line)
        name = header_field(m.group(2)) if m else None
        if m and name and name not in ("status", "comment", "measure"):
            if current is None or current.cells.get(name):
                current = _Draft({}, start, end)
                drafts.append(current)
                if m.group(1):
                    current.cells["nr"] = [m.group(1)]
            if m.group(3).strip():
                current.cells.setdefault(name, []).append(m.group(3).strip())
            current.end, last_field = end, name
            continue
        t = _NUMBERED_TITLE.match(line)
        if t and (current is None or current.cells.get("problem")) and not _BULLET.match(line) and \
                (current is None or last_field not in LIST_FIELDS):
            current = _Draft({"nr": [t.group(1)], "problem": [t.group(2)]}, start, end)
            drafts.append(current)
            last_field = "problem"
        elif current is not None and last_field:
            values = current.cells.setdefault(last_field, [""])
            values[-1] = (values[-1] + "\n" + line.strip()).strip()
            current.end = end
    drafts = [d for d in drafts if d.cells.get("problem") and len(d.cells) >= 3]
    return [_build_row(d, n, False, {}, text, document_id) for n, d in enumerate(drafts, 1)]


def extract_plan(doc, document_id: str | None = None) -> list[PlanRow]:
    """Plan rows of a ParsedDocument or StoredDocument: its tables first, else tables written in
    its text ('|' or tabs), else labelled row blocks."""
    filename = str(getattr(doc, "filename", "") or (getattr(doc, "meta", None) or {}).get("filename", ""))
    wrapped = filename.lower().endswith(".pdf") or bool((getattr(doc, "meta", None) or {}).get("ocr"))
    rows = rows_from_tables(getattr(doc, "tables", []) or [], doc.text, document_id, wrapped)
    if not rows:
        rows = rows_from_tables(_pipe_tables(doc.text), doc.text, document_id, False)
    if not rows:
        rows = rows_from_labelled_text(doc.text, document_id)
    return rows


# ---------- tracking: status tables of later minutes ----------
@dataclass
class StatusReport:
    task: str
    status: str | None  # not_started | in_progress | done | late
    status_text: str
    comment: str
    source: dict


def tracking_status(text: str) -> str | None:
    """'Realizuar' -> done, 'Realizuar pjesërisht' / 'në proces' -> in_progress, 'Me vonesë' -> late."""
    words = _words(text)
    for status, keys in header_words()["status_words"]["order"]:
        if any(_find(words, k) >= 0 for k in keys):
            return status
    return None


def combined_status(statuses: list[str]) -> str:
    """One status for a row from the reports on its activities: any late -> late; all done ->
    done; all not started -> not_started; otherwise in progress."""
    if "late" in statuses:
        return "late"
    if statuses and all(s == "done" for s in statuses):
        return "done"
    if statuses and all(s == "not_started" for s in statuses):
        return "not_started"
    return "in_progress"


def status_reports(doc, document_id: str | None = None) -> list[StatusReport]:
    """Rows of the tables that report on tasks (a task or activity column and a status column)."""
    reports = []
    for table in getattr(doc, "tables", []) or []:
        first = next((i for i, r in enumerate(table.rows[:3]) if _is_header_row(r)), None)
        if first is None:
            continue
        columns = map_columns([table.rows[first]])
        fields = {f: c for c, f in sorted(columns.items(), reverse=True)}
        if "status" not in fields or not ({"activities", "problem"} & set(fields)):
            continue
        task_col = fields.get("activities", fields.get("problem"))
        spans = list(table.spans) + [None] * len(table.rows)
        for row, span in zip(table.rows[first + 1 :], spans[first + 1 :]):
            def cell(name):
                c = fields.get(name)
                return squash(row[c]) if c is not None and c < len(row) else ""
            task = squash(row[task_col]) if task_col < len(row) else ""
            if not task:
                continue
            start, end, quote = _quote(doc.text, *(span or (None, None)), task)
            reports.append(StatusReport(task, tracking_status(cell("status")), cell("status"), cell("comment"),
                                        {"document_id": document_id, "start": start, "end": end, "quote": quote}))
    return reports


def _stems(text: str) -> set[str]:
    from assistant.search.albanian import content_words, stem
    return {stem(w) for w in content_words(text) if not w.isdigit()}


def match_reports(rows: list[dict], reports: list[StatusReport], threshold: float = 0.5) -> list[tuple[dict, StatusReport]]:
    """Pairs (plan row, report) where the report's task shares at least `threshold` of its content
    words with one activity of the row (or its problem); each report goes to its best row."""
    pairs = []
    for report in reports:
        task = _stems(report.task)
        if not task or report.status is None:
            continue
        best, best_score = None, threshold
        for row in rows:
            for text in [*row.get("activities", []), row.get("problem", "")]:
                score = len(task & _stems(text)) / len(task)
                if score > best_score or (score == best_score and best is None and score > threshold):
                    best, best_score = row, score
        if best is not None:
            pairs.append((best, report))
    return pairs
