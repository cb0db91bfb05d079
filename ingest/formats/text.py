"""TXT / Markdown / HTML -> ParsedDocument, plus the structure rules shared with the DOCX parser.

Plain text keeps its line breaks inside a paragraph (notes are written line by line); blank
lines separate paragraphs, form feeds separate pages. Headings come from markdown `#`, ALL-CAPS
lines, bold-only lines and the structure words of Albanian official documents (KREU, Neni,
Masa, Objektivi…). Tab-separated and pipe tables become one "table_row" block per row, each
cell prefixed with its column header, like the DOCX parser does.
"""
import html
import re
from html.parser import HTMLParser

from ingest.albanian.markers import ITEM
from ingest.limits import DEFAULT_LIMITS, Limits, check_chars
from ingest.model import DocumentBuilder, IngestError, ParsedDocument, Table

# Structure words and their nominal heading rank (1 = chapter). Albanian first, English too.
_STRUCTURE = (
    (1, re.compile(r"(?i)^(kreu|pjesa|kapitulli|politika|seksioni|chapter|part)\s+([ivxlc]+|\d+)\b")),
    (2, re.compile(r"(?i)^objektiv(i|at)?(\s+(specifik|strategjik)\w*)?\s*\d+(\.\d+)*")),
    (3, re.compile(r"(?i)^(neni|masa|article|measure)\s+\d+")),
)
_NUMBERED_SECTION = re.compile(r"^(\d+(?:\.\d+)+)\.?\s+[^\W\d_]")  # "2.1 Kuadri ligjor"
_TERMINAL = (".", ";", ",", "!", "?")
_HTML_TAG = re.compile(
    r"</?(?:a|b|i|u|s|em|strong|span|font|p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|tbody|thead|tfoot|"
    r"sup|sub|small|big|blockquote|section|article|header|footer|hr|img|center|pre|code|mark)\b[^>]*>",
    re.IGNORECASE,
)
_HTML_BREAK = re.compile(
    r"<br\s*/?>|</?(?:p|div|li|ul|ol|h[1-6]|tr|table|blockquote|section|article|header|footer|hr|pre)\b[^>]*>",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"(\*\*|__|\*)(?=\S)(.+?)(?<=\S)\1")
_TABLE_SEPARATOR = re.compile(r"^[\s|:\-\t]*-{2,}[\s|:\-\t]*$")
_OCR_SIGNS = re.compile(r"[é¢€]")


# ---- structure rules shared with ingest.formats.docx -------------------------------------------------

def structure_rank(text: str) -> int | None:
    """Nominal heading rank of a short line that names a chapter, objective, article or measure."""
    words = text.split()
    if not words or len(words) > 25 or text.rstrip().endswith((";", ",")):
        return None
    if text.rstrip().endswith(".") and len(words) > 12:
        return None  # a sentence that starts with "Masa 3 …", not a heading
    for rank, pattern in _STRUCTURE:
        if pattern.match(text):
            return rank
    match = _NUMBERED_SECTION.match(text)
    if match and len(words) <= 12 and not text.rstrip().endswith(_TERMINAL):
        return 1 + match.group(1).count(".")
    return None


def is_caps_heading(text: str) -> bool:
    """A short line in capitals ("SHQETËSIMET E QYTETARËVE", "RENDI I DITËS (miratuar)")."""
    head = text.split("(")[0]
    letters = [c for c in head if c.isalpha()]
    return (len(letters) >= 5 and all(c.isupper() for c in letters) and len(text.split()) <= 15
            and not text.rstrip().endswith((",", ";")))


def is_short_label(text: str) -> bool:
    """Short enough, and not a sentence, to be a bold label acting as a heading."""
    return 0 < len(text.split()) <= 12 and not text.rstrip().endswith(_TERMINAL)


class HeadingLevels:
    """Turns nominal heading levels, which may skip (Title then Heading 3, KREU then Neni), into
    the consecutive depths DocumentBuilder.heading expects."""

    def __init__(self):
        self._open: list[float] = []

    def depth(self, level: float) -> int:
        while self._open and self._open[-1] >= level:
            self._open.pop()
        self._open.append(level)
        return len(self._open)

    @property
    def current(self) -> float:
        return self._open[-1] if self._open else 0


def join_cell_lines(lines: list[str]) -> str:
    """One line for a multi-paragraph cell: fragments of a broken sentence rejoin with a space,
    separate items ("1. …", "2. …", institutions) with "; "."""
    out = ""
    for line in (" ".join(part.split()) for part in lines):
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith(":") or (not out.endswith(_TERMINAL) and line[0].islower()):
            out += " " + line
        else:
            out += ("" if out.endswith(";") else ";") + " " + line
    return out


def header_labels(header_rows: list[list[list[str] | None]], columns: int) -> list[str]:
    """Column labels from one or more header rows: the first line of each header cell (the rest is
    often a legend, e.g. "• Prioritet i lartë"), stacked rows joined with " – "."""
    labels = []
    for col in range(columns):
        parts: list[str] = []
        for row in header_rows:
            cell = (row[col] if col < len(row) else None) or []
            first = next((" ".join(line.split()) for line in cell if line.strip()), "")
            first = first.split("•")[0].rstrip(":").strip()
            if first and first not in parts:
                parts.append(first)
        labels.append(" – ".join(parts))
    return labels


def table_row_text(labels: list[str], cells: list[list[str] | None]) -> str:
    """ "Label: value; Label: value" (cells without a label are joined with " | ")."""
    parts = []
    for col, cell in enumerate(cells):
        if cell is None:
            continue
        value = join_cell_lines(cell)
        if not value:
            continue
        label = labels[col] if col < len(labels) else ""
        parts.append(f"{label}: {value}" if label else value)
    separator = "; " if any(labels) else " | "
    return separator.join(parts)


def merge_continuation_rows(rows: list[list[list[str]]]) -> list[list[list[str]]]:
    """Rows whose first cell is empty continue the row above (a row broken across pages, or the
    lower part of vertically merged cells): their lines are appended to it cell by cell."""
    merged: list[list[list[str]]] = []
    for row in rows:
        first_empty = not any(line.strip() for line in (row[0] if row else []))
        if merged and first_empty and any(any(line.strip() for line in cell) for cell in row):
            previous = merged[-1]
            for col, cell in enumerate(row):
                while col >= len(previous):
                    previous.append([])
                previous[col] = previous[col] + [line for line in cell if line.strip()]
        else:
            merged.append([list(cell) for cell in row])
    return merged


def looks_like_header(row: list[list[str]]) -> bool:
    """A first row of short, non-empty, non-numeric cells names the columns."""
    texts = [" ".join(" ".join(cell).split()) for cell in row]
    return (len(texts) >= 2 and all(texts) and all(len(t.split()) <= 15 for t in texts)
            and not any(re.fullmatch(r"[\d.,:/\-– ]+", t) for t in texts))


def _raw_cells(row: list[list[str] | None]) -> list[str]:
    return ["\n".join(line for line in cell or [] if line.strip()) for cell in row]


def add_table(builder: DocumentBuilder, rows: list[list[list[str] | None]], page: int, header_rows: int) -> None:
    """Store a table: one table_row block per body row (cells labelled by the header) and the raw
    cells (header rows first) for structured extraction."""
    columns = max((len(r) for r in rows), default=0)
    labels = header_labels(rows[:header_rows], columns) if header_rows else [""] * columns
    raw = [_raw_cells(r) for r in rows[:header_rows]]
    spans: list[tuple[int, int] | None] = [None] * header_rows
    for row in rows[header_rows:]:
        block = builder.add(table_row_text(labels, row), "table_row", page)
        if block is None:
            continue
        raw.append(_raw_cells(row))
        spans.append((block.start, block.end))
    if len(raw) > header_rows:
        builder.table(raw, spans, page, header_rows=header_rows)


# ---- decoding and cleaning -------------------------------------------------------------------

def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def clean_inline_html(text: str) -> str:
    """Leftover HTML in plain text: line-level tags become line breaks, the rest is dropped,
    entities (&nbsp; &amp; …) are decoded."""
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    return html.unescape(text).replace("\xa0", " ")


def cell_lines(cell: str) -> list[str]:
    """The paragraphs of one table cell written as text (possibly with <p>/<br>/<li> inside)."""
    parts = clean_inline_html(cell).split("\n")
    return [" ".join(p.split()) for p in parts if p.strip()]


def strip_emphasis(text: str) -> str:
    return _EMPHASIS.sub(r"\2", text)


class _HtmlToText(HTMLParser):
    """A whole HTML page -> text in the form parse_text reads: markdown headings, "- " list
    items, blank lines between blocks, table rows as tab-separated lines."""

    _SKIP = {"script", "style", "head", "noscript", "template"}
    _BLOCK = {"p", "div", "ul", "ol", "table", "blockquote", "section", "article", "header", "footer",
              "hr", "pre", "main", "nav", "aside", "figure", "form"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def _emit(self, text: str):
        (self.cell if self.cell is not None else self.out).append(text)

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skip += 1
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif self.cell is not None and (tag in self._BLOCK or tag in ("br", "li")):
            self.cell.append("<br>")
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "br":
            self.out.append("\n")
        elif tag in self._BLOCK:
            self.out.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skip = max(self.skip - 1, 0)
        elif tag in ("td", "th") and self.cell is not None:
            if self.row is not None:
                self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.out.append("\n" + "\t".join(self.row) + "\n")
            self.row = None
        elif re.fullmatch(r"h[1-6]", tag) or (tag in self._BLOCK and self.cell is None):
            self.out.append("\n\n")

    def handle_data(self, data):
        if not self.skip:
            self._emit(re.sub(r"\s+", " ", data))


def html_to_text(page: str) -> str:
    parser = _HtmlToText()
    parser.feed(page)
    parser.close()
    lines = [line.strip() if "\t" not in line else line for line in "".join(parser.out).split("\n")]
    return "\n".join(lines)


def _looks_ocr_damaged(text: str) -> bool:
    """OCR without the Albanian model writes é for ë and ¢ for ç; real Albanian has ë far more
    often than é."""
    signs = len(_OCR_SIGNS.findall(text))
    return signs >= 5 and signs > text.count("ë")


def _ocr_repair(text: str) -> tuple[str, bool]:
    try:
        from ingest.albanian.ocr_repair import repair
    except ImportError:
        return text, False
    repaired = repair(text)
    return (repaired[0] if isinstance(repaired, tuple) else repaired), True


# ---- tables in text ---------------------------------------------------------------------------

def _split_row(line: str, pipe: bool) -> list[str]:
    if pipe:
        line = line.strip()
        line = line[1:] if line.startswith("|") else line
        line = line[:-1] if line.endswith("|") else line
        return [c.strip() for c in line.split("|")]
    cells = line.split("\t")
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _is_tab_row(line: str) -> bool:
    return "\t" in line and sum(1 for c in line.split("\t") if c.strip()) >= 1 and len(line.split("\t")) >= 2


def _is_pipe_row(line: str) -> bool:
    return line.count("|") >= 2 and not _TABLE_SEPARATOR.match(line)


def _table_at(lines: list[str], i: int) -> tuple[list[list[str]], int] | None:
    """The rows of a tab or pipe table starting at line i and the index after it, or None."""
    line = lines[i]
    if _is_tab_row(line) and sum(1 for c in line.split("\t") if c.strip()) >= 2:
        pipe = False
        is_row = _is_tab_row
    elif _is_pipe_row(line) and i + 1 < len(lines) and _TABLE_SEPARATOR.match(lines[i + 1]) and "-" in lines[i + 1]:
        pipe = True
        is_row = _is_pipe_row
    else:
        return None
    rows, j = [], i
    while j < len(lines):
        current = lines[j]
        if _TABLE_SEPARATOR.match(current) and current.strip():
            pass
        elif is_row(current):
            rows.append(_split_row(current, pipe))
        elif current.strip():
            break
        elif current.strip() == "" and not pipe and not (j + 1 < len(lines) and is_row(lines[j + 1])):
            break
        elif current.strip() == "" and pipe:
            break
        j += 1
    if len(rows) < 2:
        return None
    return rows, j


def tables_in(text: str) -> list[Table]:
    """The tab and pipe tables of a plain text as it stands (typed notes), each row's span in `text`:
    what a task reader needs when no ingest has stored the text's tables."""
    lines = text.split("\n")
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    found, i = [], 0
    while i < len(lines):
        table = _table_at(lines, i) if lines[i].strip() else None
        if table is None:
            i += 1
            continue
        rows, j = table
        row_lines = [k for k in range(i, j) if lines[k].strip() and not _TABLE_SEPARATOR.match(lines[k])]
        if len(row_lines) == len(rows):  # one line a row, so each row's span is its line
            found.append(Table(rows=rows, spans=[(starts[k], starts[k] + len(lines[k])) for k in row_lines], page=1))
        i = j
    return found


def _add_text_table(builder: DocumentBuilder, rows: list[list[str]], page: int) -> None:
    columns = max(len(r) for r in rows)
    cells = [[cell_lines(c) for c in r] + [[] for _ in range(columns - len(r))] for r in rows]
    header = 1 if looks_like_header(cells[0]) else 0
    body = merge_continuation_rows(cells[header:])
    add_table(builder, cells[:header] + body, page, header)


# ---- the parser -------------------------------------------------------------------------------

def _heading_level(line: str, levels: HeadingLevels) -> float | None:
    markdown = re.match(r"^(#{1,6})\s+\S", line)
    if markdown:
        return len(markdown.group(1))
    rank = structure_rank(line)
    if rank is not None:
        return rank
    if is_caps_heading(line):
        return 1
    bold = re.fullmatch(r"(\*\*|__)(.+)\1:?", line.strip())
    if bold and is_short_label(bold.group(2)):
        return levels.current + 1 if levels.current < 6 else 6
    return None


def parse_text(data: bytes, title: str, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    text = decode(data)
    check_chars(len(text), title, limits)
    if "\x00" in text or sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\t\n\r\f") > 8:
        raise IngestError("unsupported_type", f"{title}: this looks like a binary file, not text")
    if not text.strip():
        raise IngestError("empty_file", f"{title}: the file is empty")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict = {}
    if re.search(r"(?is)^\s*(<!doctype html|<html|<head|<body)", text):
        text = html_to_text(text)
        meta["html"] = True
    if _looks_ocr_damaged(text):
        text, repaired = _ocr_repair(text)
        meta["ocr_repaired"] = repaired
    # leftover tags outside tables (tab rows keep theirs: they mark paragraphs inside a cell)
    text = "\n".join(line if "\t" in line else clean_inline_html(line) for line in text.split("\n"))
    if not text.strip():
        raise IngestError("empty_file", f"{title}: the file has no text")

    builder = DocumentBuilder(title)
    levels = HeadingLevels()
    lines = text.split("\n")
    page, i = 1, 0
    paragraph: list[str] = []
    item: list[str] = []

    def flush():
        if paragraph:
            builder.add("\n".join(paragraph), "paragraph", page)
            paragraph.clear()
        if item:
            builder.add("\n".join(item), "list_item", page)
            item.clear()

    while i < len(lines):
        line = lines[i]
        if "\f" in line:
            flush()
            page += line.count("\f")
            line = line.replace("\f", "")
        stripped = line.strip()
        table = _table_at(lines, i) if stripped else None
        if table:
            flush()
            _add_text_table(builder, table[0], page)
            i = table[1]
            continue
        if not stripped:
            flush()
        elif (level := _heading_level(stripped, levels)) is not None:
            flush()
            heading = strip_emphasis(re.sub(r"^#{1,6}\s+", "", stripped)).rstrip("#").strip()
            if heading:
                builder.heading(heading, levels.depth(level), page)
        elif ITEM.match(line):
            flush()
            item.append(strip_emphasis(line.rstrip()))
        elif item and (stripped[0].islower() or line[:1].isspace()) and not item[-1].rstrip().endswith((".", "!", "?")):
            item.append(strip_emphasis(line.rstrip()))  # the wrapped rest of a list item
        else:
            if item:
                flush()
            paragraph.append(strip_emphasis(line.rstrip()))
        i += 1
    flush()
    if not builder.doc.blocks:
        raise IngestError("empty_file", f"{title}: the file has no text")
    return builder.build(pages=page, **meta)
