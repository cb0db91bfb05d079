"""PDF -> ParsedDocument: text layer (pdfplumber word positions) or OCR for scanned pages.

Per page: words -> lines (split at a detected two-column gutter) -> running headers, page
numbers and footnotes set apart -> lines in reading order (band by band, left column then right)
-> one block per paragraph, heading, list item, footnote or table row. Paragraphs continue across
columns and pages when the sentence does.
"""
import io
import logging
import re
import threading
import statistics
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1
from pdfminer.psparser import PSException

from ingest.albanian import markers
from ingest.albanian import ocr_repair as albanian_ocr
from ingest.limits import DEFAULT_LIMITS, Deadline, Limits, check_chars, check_pdf_pages
from ingest.model import DocumentBuilder, IngestError, ParsedDocument
from ingest.formats import pdfium
from ingest.formats.ocr import OcrPage, ocr_pages

Progress = Callable[[str, int, int], None]

MIN_TEXT_CHARS = 10  # a page with less text than this (and an image) is a scan
MARGIN = 0.09  # top/bottom share of the page where running headers and page numbers live
# a glyph may touch its text; a dash needs a space and a letter after it (else a hyphen or a minus)
ITEM_RE = re.compile(rf"^(?:{markers.GLYPH}\s*|{markers.DASH}\s+(?=[^\W\d_])|{markers.ENUMERATOR}\s+)")
PAGE_NUMBER_RE = re.compile(r"^(?:faqe|faqja|page|fq\.?)?\s*[-–]?\s*\d{1,4}\s*(?:(?:/|nga|of)\s*\d{1,4})?\s*[-–]?$", re.I)
HEADING_PATTERN_RE = re.compile(
    r"^(?:PJESA|KREU|KAPITULLI|Kapitulli|Neni|NENI|Masa|MASA|Objektivi specifik|OBJEKTIVI SPECIFIK|Politika|POLITIKA)\b"
)
NUMBERED_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+\S")
TERMINAL = ".!?:;"


# --- layout primitives --------------------------------------------------------------------------

@dataclass
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False
    font: str = ""  # font family without subset prefix and weight ("LiberationSans")


@dataclass
class Line:
    words: list[Word]
    page: int
    column: str = "full"  # "left", "right" or "full" (spans the page or no gutter)
    col_x0: float = 0.0
    col_x1: float = 0.0
    par_hint: bool = False  # OCR: the engine saw a new paragraph here
    ocr: bool = False

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def size(self) -> float:
        """The size most of the line's characters have."""
        weights: Counter = Counter()
        for w in self.words:
            weights[round(w.size, 1)] += len(w.text)
        return weights.most_common(1)[0][0]

    @property
    def bold(self) -> bool:
        return all(w.bold for w in self.words if w.text.strip(".:)"))

    @property
    def style(self) -> tuple[float, bool, str] | None:
        """(size, bold, font family) when the whole line has one style."""
        styles = {(round(w.size * 2) / 2, w.bold, w.font) for w in self.words if w.text.strip(".:)")}
        return styles.pop() if len(styles) == 1 else None

    @property
    def text(self) -> str:
        out = ""
        prev = None
        for w in self.words:
            if prev is not None and w.x0 - prev.x1 > 0.12 * min(w.size, prev.size):
                out += " "
            out += w.text
            prev = w
        return " ".join(out.split())


@dataclass
class TableItem:
    rows: list[list[str]]
    page: int
    top: float
    x0: float
    x1: float
    column: str = "full"


@dataclass
class PageLayout:
    number: int
    height: float
    lines: list[Line] = field(default_factory=list)
    tables: list[TableItem] = field(default_factory=list)
    footnotes: list[Line] = field(default_factory=list)
    ocr: bool = False


# --- entry point ----------------------------------------------------------------------------------

def parse_pdf(
    data: bytes,
    title: str,
    *,
    ocr_lang: str = "sqi",
    ocr_workers: int = 2,
    progress: Progress | None = None,
    ocr_cache_dir: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedDocument:
    """Parse a PDF; scanned pages are OCR'd. Raises IngestError (encrypted_pdf, corrupt_pdf,
    empty_file, ocr_failed, ocr_unavailable, too_large, too_slow). Pages whose text could not be
    read whole are listed in meta["damaged_pages"]."""
    deadline = Deadline(title, limits)
    page_count, metadata_title = _check_readable(data, title, limits)
    damaged: list[int] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            layouts, scanned = [], []
            for number, page in enumerate(pdf.pages, start=1):
                deadline.check()
                layout, lost = _read_page(page, number)
                if lost:
                    damaged.append(number)
                if layout is None:
                    scanned.append(number)
                    layout = PageLayout(number, float(page.height), ocr=True)
                layouts.append(layout)
    except (PDFSyntaxError, PSException, pdfplumber.utils.exceptions.PdfminerException,
            pdfplumber.utils.exceptions.MalformedPDFException) as exc:
        raise IngestError("corrupt_pdf", f"The PDF could not be read ({type(exc).__name__}).") from exc
    ocr = ocr_pages(data, scanned, lang=ocr_lang, workers=ocr_workers, progress=progress, cache_dir=ocr_cache_dir)
    deadline.check()
    for number, page in ocr.items():
        layouts[number - 1] = _ocr_layout(page)
    _drop_running_lines(layouts)
    body = _body_size(layouts)
    for layout in layouts:
        if not layout.ocr:
            _split_footnotes(layout, body)
    doc = _assemble(layouts, title, body, dedupe=bool(scanned))
    check_chars(len(doc.text), title, limits)
    doc.pages = page_count
    if damaged:
        doc.meta["damaged_pages"] = damaged
    if metadata_title:
        doc.meta["title"] = metadata_title
    if ocr:
        confidences = {n: p.confidence for n, p in sorted(ocr.items())}
        words = sum(len(p.words) for p in ocr.values())
        mean = sum(p.confidence * len(p.words) for p in ocr.values()) / words if words else 0.0
        doc.meta.update(ocr=True, ocr_confidence=round(mean, 2), ocr_pages=confidences, ocr_lang=ocr_lang)
    return doc


def _check_readable(data: bytes, title: str = "PDF", limits: Limits = DEFAULT_LIMITS) -> tuple[int, str | None]:
    """The page count and the title the PDF's metadata gives, or an IngestError; too many pages or a
    page box too large to lay out or render is refused before any page is read."""
    if not data.strip():
        raise IngestError("empty_file", "The file is empty.")
    if b"%PDF" not in data[:1024]:
        raise IngestError("corrupt_pdf", "This file is not a PDF.")
    try:
        with pdfium.opened(data) as pdf:
            count = len(pdf)
            check_pdf_pages(count, (pdfium.media_size(pdf[i]) for i in range(count)), title, limits)
            metadata_title = " ".join((pdf.get_metadata_value("Title") or "").split()) or None
    except pdfium.PdfiumError as exc:
        if pdfium.is_password_error(exc):
            raise IngestError("encrypted_pdf", "The PDF is password-protected; save an unprotected copy and upload that.") from exc
        if _without_pages(data):
            raise IngestError("empty_file", "The PDF has no pages.") from exc
        raise IngestError("corrupt_pdf", "The PDF is damaged and could not be read.") from exc
    if count == 0:
        raise IngestError("empty_file", "The PDF has no pages.")
    return count, metadata_title


def _without_pages(data: bytes) -> bool:
    """PDFium refuses a file with an empty page tree as it refuses a damaged one; pdfminer tells them apart."""
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return len(pdf.pages) == 0
    except (PDFSyntaxError, PSException, pdfplumber.utils.exceptions.PdfminerException,
            pdfplumber.utils.exceptions.MalformedPDFException, ValueError, KeyError, TypeError):
        return False


class _LossLog(logging.Handler):
    """Counts pdfminer's reports that it dropped or could not decode part of a page."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0
        self.thread = threading.get_ident()  # another upload parsed at the same time is not this page

    def emit(self, record):
        self.count += record.thread == self.thread


def _read_page(page, number: int) -> tuple[PageLayout | None, bool]:
    """The page's layout (None for a scan) and whether part of its text was lost: a page pdfminer
    cannot lay out is kept empty, and a damaged stream it reads only in part is flagged, so that
    neither is lost silently."""
    broken = _broken_streams(page)  # before the layout: reading decodes them and drops the raw bytes
    log, miner = _LossLog(), logging.getLogger("pdfminer")
    miner.addHandler(log)
    try:
        layout = _page_layout(page, number)
    except Exception:  # pdfminer and pdfplumber raise many kinds on one damaged page; the others still count
        return PageLayout(number, float(page.height)), True
    finally:
        miner.removeHandler(log)
    return layout, log.count > 0 or broken


def _broken_streams(page) -> bool:
    """Whether a content stream of the page fails to inflate whole. pdfminer reads such a stream as
    whatever part it can recover, often nothing, and says nothing: the page would look empty."""
    try:
        streams = [resolve1(s) for s in page.page_obj.contents]
    except Exception:  # a contents entry that does not resolve is damage too
        return True
    for stream in streams:
        if not isinstance(stream, PDFStream) or stream.rawdata is None:
            continue  # not a stream, or one already decoded (shared with a page read before)
        filters = stream.get_filters()
        if filters and filters[0][0] in LITERALS_FLATE_DECODE and not _inflates(stream.rawdata):
            return True
    return False


def _inflates(data: bytes) -> bool:
    """Whether a deflated stream inflates to its end without error; read in blocks, output dropped,
    so a stream that inflates to gigabytes costs no memory here."""
    inflater = zlib.decompressobj()
    try:
        while not inflater.eof:
            out = inflater.decompress(data, 1 << 20)
            data = inflater.unconsumed_tail
            if not out and not data:
                break
    except zlib.error:
        return False
    return inflater.eof


# --- one page of the text layer ---------------------------------------------------------------

def _page_layout(page, number: int) -> PageLayout | None:
    """The page's lines and tables, or None when the page has no text layer but an image (a scan)."""
    text_chars = sum(1 for c in page.chars if c["text"].strip())
    if text_chars < MIN_TEXT_CHARS:
        if page.images:
            return None
        return PageLayout(number, float(page.height))
    layout = PageLayout(number, float(page.height))
    tables = [t for t in page.find_tables() if _is_table(t)]
    boxes = [t.bbox for t in tables]
    for table in tables:
        rows = [[_cell_text(c) for c in row] for row in table.extract()]
        x0, top, x1, _ = table.bbox
        layout.tables.append(TableItem(rows, number, top, x0, x1))
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
    words = [
        Word(w["text"], w["x0"], w["x1"], w["top"], w["bottom"], w["size"], _is_bold(w["fontname"]), _family(w["fontname"]))
        for w in outside.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False)
    ]
    layout.lines = _lines(words, number, float(page.width))
    for table in layout.tables:
        table.column = _column_of(table.x0, table.x1, layout.lines)
    return layout


def _is_bold(fontname: str) -> bool:
    return bool(re.search(r"bold|black|heavy|semibold", fontname, re.I))


def _family(fontname: str) -> str:
    name = fontname.split("+", 1)[-1]
    return re.split(r"[-,]", name, maxsplit=1)[0]


def _is_table(table) -> bool:
    rows = table.extract()
    return len(rows) >= 2 and max(len(r) for r in rows) >= 2 and sum(1 for r in rows for c in r if c) >= 4


def _inside(obj, boxes) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _cell_text(cell: str | None) -> str:
    return reflow([line for line in (cell or "").splitlines()])


def _lines(words: list[Word], page: int, width: float) -> list[Line]:
    """Group words into lines, split at the column gutter when the page has one."""
    gutter = _gutter(words, width)
    if gutter is None:
        lines = _cluster(words, page, "full")
        x0 = min((w.x0 for w in words), default=0.0)
        x1 = max((w.x1 for w in words), default=width)
        for line in lines:
            line.col_x0, line.col_x1 = x0, x1
        return lines
    lo, hi = gutter
    left, right, full = [], [], []
    for w in words:
        if w.x0 < lo and w.x1 > hi:
            full.append(w)
        elif w.x0 < lo or w.x1 <= hi and w.x0 - lo < hi - w.x1:
            left.append(w)  # a word inside the gutter strip goes to the nearer column
        else:
            right.append(w)
    full_lines = _cluster(full, page, "full")
    side_lines = []
    for line in _cluster(left, page, "left") + _cluster(right, page, "right"):
        host = next((f for f in full_lines if _v_overlap(f, line) > 0.5), None)
        if host:  # part of a line that crosses the gutter (a wide title, a footnote)
            host.words = sorted(host.words + line.words, key=lambda w: w.x0)
        else:
            side_lines.append(line)
    lefts = [l for l in side_lines if l.column == "left"]
    rights = [l for l in side_lines if l.column == "right"]
    for r in list(rights):  # small print that happens to leave the gutter empty is still one line
        mate = next((l for l in lefts if _v_overlap(l, r) > 0.5 and l.size == r.size and r.x0 - l.x1 < 2 * r.size), None)
        if mate and not _is_body_like(mate, words):
            mate.words += r.words
            mate.column = "full"
            rights.remove(r)
            lefts.remove(mate)
            full_lines.append(mate)
    bounds = {
        "left": (min((l.x0 for l in lefts), default=0.0), lo),
        "right": (hi, max((l.x1 for l in rights), default=width)),
        "full": (min((w.x0 for w in words), default=0.0), max((w.x1 for w in words), default=width)),
    }
    lines = lefts + rights + full_lines
    for line in lines:
        line.col_x0, line.col_x1 = bounds[line.column]
    return lines


def _is_body_like(line: Line, words: list[Word]) -> bool:
    return abs(line.size - _mode_size(words)) < 0.3


def _mode_size(words: Iterable[Word]) -> float:
    weights: Counter = Counter()
    for w in words:
        weights[round(w.size, 1)] += len(w.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _gutter(words: list[Word], width: float) -> tuple[float, float] | None:
    """The widest vertical strip in the middle of the page that body-size words do not cross."""
    body = _mode_size(words)
    body_words = [w for w in words if abs(w.size - body) < 0.3]
    if len(body_words) < 60:
        return None
    lo_x, hi_x = int(width * 0.3), int(width * 0.7)
    crossing = [0] * (hi_x - lo_x)
    for w in body_words:
        for x in range(max(int(w.x0), lo_x), min(int(w.x1) + 1, hi_x)):
            crossing[x - lo_x] += 1
    allowed = max(1, len(body_words) // 40)  # a few full-width lines may cross
    best, start = None, None
    for i, count in enumerate(crossing + [allowed + 1]):
        if count <= allowed and start is None:
            start = i
        elif count > allowed and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    if best is None or best[1] - best[0] < 6:
        return None
    lo, hi = best[0] + lo_x, best[1] + lo_x
    left = sum(1 for w in body_words if w.x1 <= hi)
    right = sum(1 for w in body_words if w.x0 >= lo)
    if min(left, right) < 0.2 * len(body_words):
        return None
    return float(lo), float(hi)


def _cluster(words: list[Word], page: int, column: str) -> list[Line]:
    """Words into lines by vertical overlap; a wide horizontal gap (a figure's boxes) splits a line."""
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        for line in reversed(lines[-4:]):
            h = min(w.bottom - w.top, line.bottom - line.top) or 1
            if min(w.bottom, line.bottom) - max(w.top, line.top) > 0.5 * h:
                line.words.append(w)
                break
        else:
            lines.append(Line([w], page, column))
    out = []
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
        segment = [line.words[0]]
        for w in line.words[1:]:
            if w.x0 - segment[-1].x1 > 3.5 * max(w.size, segment[-1].size):
                out.append(Line(segment, page, column))
                segment = []
            segment.append(w)
        out.append(Line(segment, page, column))
    for line in out:
        _drop_superscripts(line)
    return out


def _drop_superscripts(line: Line) -> None:
    """Footnote markers glued to words ("Kosovë2") are raised, smaller digits: not body text.
    A line that starts with one is a footnote and keeps its number."""
    size = line.size
    base = statistics.median(w.bottom for w in line.words if round(w.size, 1) == size)
    kept = []
    for i, w in enumerate(line.words):
        marker = re.fullmatch(r"\d{1,3}(?:[,-]\d{1,3})*[.,;:]?|[*†]", w.text)
        raised = w.size < 0.85 * size and w.bottom < base - 0.12 * size
        if marker and raised and i > 0:
            continue
        kept.append(w)
    line.words = kept or line.words


def _v_overlap(a: Line, b: Line) -> float:
    h = min(a.bottom - a.top, b.bottom - b.top) or 1
    return (min(a.bottom, b.bottom) - max(a.top, b.top)) / h


def _column_of(x0: float, x1: float, lines: list[Line]) -> str:
    for column in ("left", "right"):
        side = [l for l in lines if l.column == column]
        if side and side[0].col_x0 - 5 <= x0 and x1 <= side[0].col_x1 + 5:
            return column
    return "full"


# --- OCR pages ------------------------------------------------------------------------------------

def _ocr_layout(page: OcrPage) -> PageLayout:
    """Tesseract's words as lines in points, in the engine's reading order."""
    scale = 72.0 / page.dpi
    layout = PageLayout(page.number, page.height * scale, ocr=True)
    groups: dict[tuple[int, int, int], list] = {}
    for w in page.words:
        groups.setdefault((w.block, w.par, w.line), []).append(w)
    prev_par = None
    for key, group in groups.items():
        size = statistics.median(w.height for w in group) * scale
        words = [
            Word(w.text, w.left * scale, (w.left + w.width) * scale, w.top * scale, (w.top + w.height) * scale, size)
            for w in group
        ]
        line = Line(words, page.number, par_hint=key[:2] != prev_par, ocr=True)
        prev_par = key[:2]
        layout.lines.append(line)
    if layout.lines:
        x0 = min(l.x0 for l in layout.lines)
        x1 = max(l.x1 for l in layout.lines)
        for line in layout.lines:
            line.col_x0, line.col_x1 = x0, x1
    return layout


# --- across pages: running headers, page numbers, footnotes ------------------------------------

def _drop_running_lines(layouts: list[PageLayout]) -> None:
    """Lines in the top or bottom margin that repeat on most pages, and bare page numbers."""
    def in_margin(line: Line, layout: PageLayout) -> bool:
        return line.top < MARGIN * layout.height or line.bottom > (1 - MARGIN) * layout.height

    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    with_text = [l for l in layouts if l.lines]
    seen: Counter = Counter()
    for layout in with_text:
        seen.update({key(line) for line in layout.lines if in_margin(line, layout)})
    threshold = max(2, (len(with_text) + 1) // 2)
    for layout in with_text:
        layout.lines = [
            line
            for line in layout.lines
            if not (in_margin(line, layout) and (seen[key(line)] >= threshold or PAGE_NUMBER_RE.match(line.text)))
        ]


def _body_size(layouts: list[PageLayout]) -> float:
    return _mode_size(w for layout in layouts if not layout.ocr for line in layout.lines for w in line.words) or 10.0


def _split_footnotes(layout: PageLayout, body: float) -> None:
    """Small-print lines below the page's body text that start with a number are footnotes."""
    main = [l for l in layout.lines if l.size >= 0.9 * body]
    floor = max((l.bottom for l in main), default=0.0)
    floor = max([floor] + [t.top for t in layout.tables])
    small = sorted((l for l in layout.lines if l.top >= floor - 1 and l.size < 0.9 * body), key=lambda l: l.top)
    if not small or not re.match(r"\d{1,3}\b", small[0].text):
        return
    layout.footnotes = small
    ids = {id(l) for l in small}
    layout.lines = [l for l in layout.lines if id(l) not in ids]


# --- reading order and blocks -----------------------------------------------------------------------

def _reading_order(layout: PageLayout) -> list[Line | TableItem]:
    """Band by band (bands end at full-width lines and tables): left column, then right."""
    items: list[Line | TableItem] = list(layout.lines) + list(layout.tables)
    if layout.ocr:
        return items
    fulls = sorted((i for i in items if i.column == "full"), key=lambda i: i.top)
    out: list[Line | TableItem] = []
    remaining = [i for i in items if i.column != "full"]
    for barrier in fulls + [None]:
        limit = barrier.top if barrier is not None else float("inf")
        band = [i for i in remaining if i.top < limit]
        remaining = [i for i in remaining if i.top >= limit]
        for column in ("left", "right"):
            out += sorted((i for i in band if i.column == column), key=lambda i: (i.top, i.x0))
        if barrier is not None:
            out.append(barrier)
    return out


def _assemble(layouts: list[PageLayout], title: str, body: float, dedupe: bool) -> ParsedDocument:
    family = _body_family(layouts)
    assembler = _Assembler(DocumentBuilder(title), body, family, _heading_styles(layouts, body, family), dedupe)
    for layout in layouts:
        for item in _reading_order(layout):
            if isinstance(item, TableItem):
                assembler.table(item)
            else:
                assembler.line(item)
        assembler.footnotes(layout.footnotes)
    return assembler.finish()


def _body_family(layouts: list[PageLayout]) -> str:
    fonts = Counter(w.font for layout in layouts for l in layout.lines for w in l.words if w.font)
    return fonts.most_common(1)[0][0] if fonts else ""


def _heading_styles(layouts: list[PageLayout], body: float, body_family: str) -> list[tuple[float, bool, str]]:
    """Styles used only on short lines that stand out from the body text (bigger, bold or
    another font), highest first: their rank is the heading level."""
    lines = [l for layout in layouts if not layout.ocr for l in layout.lines]
    words: dict[tuple, list[int]] = {}
    for line in lines:
        style = line.style
        if style:
            words.setdefault(style, []).append(len(line.text.split()))
    styles = [
        style
        for style, counts in words.items()
        if style[0] >= 0.9 * body
        and (style[0] >= 1.05 * body or style[1] or style[2] != body_family)
        and statistics.mean(counts) <= 14
        and len(counts) <= 0.3 * len(lines)
    ]

    def rank(style):
        size, bold, family = style
        return (size if size >= 1.05 * body else 0.0, family != body_family, bold, size)

    return sorted(styles, key=rank, reverse=True)


class _Assembler:
    """Turns lines in reading order into blocks: decides where paragraphs, list items and
    headings start and end, and keeps footnotes and tables as their own blocks."""

    def __init__(self, builder: DocumentBuilder, body: float, body_family: str, heading_styles: list[tuple], dedupe: bool):
        self.b = builder
        self.body = body
        self.body_family = body_family
        self.heading_styles = heading_styles
        self.dedupe = dedupe
        self.seen: set[str] = set()
        self.lines: list[Line] = []
        self.kind = "paragraph"
        self.level = 0
        self.item_x = 0.0
        self.pending_notes: list[tuple[int, list[Line]]] = []
        self.open_table: dict | None = None  # a table that may continue on the next page
        self.repairs: list[dict] = []

    # lines
    def line(self, line: Line) -> None:
        text = line.text
        if not text:
            return
        heading_level = self._heading_level(line)
        if heading_level:
            if self.kind == "heading" and self._continues_heading(line, heading_level):
                self.lines.append(line)
                return
            self.flush()
            self.kind, self.level, self.lines = "heading", heading_level, [line]
            return
        marker = ITEM_RE.match(text)
        if not self.lines or self.kind == "heading" or marker or self._breaks(self.lines[-1], line):
            self.flush()
            self.kind = "list_item" if marker else "paragraph"
            self.lines = [line]
            if marker:
                self.item_x = line.x0 + (line.x1 - line.x0) * len(marker.group()) / max(len(text), 1)
            return
        self.lines.append(line)

    def _heading_level(self, line: Line) -> int:
        text = line.text
        words = text.split()
        if len(words) > 20 or text[-1] in ",;" or not re.search(r"[^\W\d_]{2}", text):
            return 0
        # a line that fills its column runs on into the next: the start of a paragraph, not a title
        short = line.x1 < line.col_x1 - 0.1 * max(line.col_x1 - line.col_x0, 1.0)
        style = line.style
        if style in self.heading_styles:
            plain_bold = style[0] < 1.05 * self.body and style[2] == self.body_family
            continuing = self.kind == "heading" and self._continues_heading(line, self.heading_styles.index(style) + 1)
            if not plain_bold or (short and text[-1] != ":") or continuing:
                return self.heading_styles.index(style) + 1
        level = len(self.heading_styles)
        # no style to go by: only patterns that are clearly headings, on a line of their own
        letters = [c for c in text if c.isalpha()]
        standalone = not self.lines or self._breaks(self.lines[-1], line) or self.kind == "heading"
        if not standalone or not short or line.size < 0.95 * self.body:
            return 0
        if text[-1] in ".:" and not HEADING_PATTERN_RE.match(text):
            return 0
        if len(words) <= 12 and len(letters) >= 4 and all(c.isupper() for c in letters):
            return level + 1
        if HEADING_PATTERN_RE.match(text) and len(words) <= 15:
            return level + 2
        return 0


    def _continues_heading(self, line: Line, level: int) -> bool:
        prev = self.lines[-1]
        width = max(prev.col_x1 - prev.col_x0, 1.0)
        wrapped = prev.x1 > prev.col_x1 - 0.3 * width or line.text[:1].islower()
        return (
            level == self.level
            and wrapped
            and line.page == prev.page
            and line.column == prev.column
            and 0 <= line.top - prev.bottom < 0.9 * line.size
            and prev.bold == line.bold
            and not NUMBERED_RE.match(line.text)
            and not HEADING_PATTERN_RE.match(line.text)
        )

    def _breaks(self, prev: Line, line: Line) -> bool:
        """Does `line` start a new paragraph after `prev`?"""
        prev_text = prev.text
        ends = prev_text[-1] in TERMINAL
        if abs(line.size - prev.size) > 0.15 * max(line.size, prev.size):
            return True
        if line.page != prev.page or line.column != prev.column or line.top < prev.top - 1:
            return ends  # a column or page break inside a sentence does not end the paragraph
        if line.par_hint and ends:  # tesseract's paragraph guess, trusted only after a full stop
            return True
        if line.top - prev.bottom > 0.75 * line.size or abs(line.top - prev.top) < 1:
            return True
        col_width = max(prev.col_x1 - prev.col_x0, 1.0)
        short = prev.x1 < prev.col_x1 - (0.15 if ends else 0.3) * col_width
        if short and (line.text[:1].isupper() or line.text[:1].isdigit()):
            return True  # the last line of a paragraph, or a line of its own ("Data: 03.10.2024")
        if self.kind == "list_item":
            return ends and line.x0 < self.item_x - 0.5 * line.size
        return line.x0 > prev.col_x0 + 1.2 * line.size and line.x0 > prev.x0 + 1.2 * line.size

    def flush(self) -> None:
        if not self.lines:
            return
        self.close_table()
        page = self.lines[0].page
        if self.kind == "heading":
            self.b.heading(" ".join(l.text for l in self.lines), self.level, page)
        else:
            text = self._repaired(reflow([l.text for l in self.lines]), self.lines)
            text = re.sub(r"^[\ue000-\uf8ff]", "•", text)  # symbol-font bullets have no Unicode meaning
            key = " ".join(text.split())
            if not (self.dedupe and key in self.seen):
                self.seen.add(key)
                self.b.add(text, self.kind, page)
        self.lines = []
        self.kind = "paragraph"
        for page_no, notes in self.pending_notes:
            self._emit_footnotes(page_no, notes)
        self.pending_notes = []

    def _repaired(self, text: str, lines: list[Line]) -> str:
        """OCR output gets the light repair (é, ¢, € only); the changes are recorded."""
        if not any(l.ocr for l in lines):
            return text
        fixed, repairs = albanian_ocr.repair(text, light=True)
        for r in repairs:
            self.repairs.append({"page": lines[0].page, "original": r.original, "replacement": r.replacement})
        return fixed

    # footnotes
    def footnotes(self, notes: list[Line]) -> None:
        if not notes:
            return
        page = notes[0].page
        if self.lines and self.kind != "heading" or self.open_table:
            self.pending_notes.append((page, notes))  # after the paragraph running onto the next page
        else:
            self.flush()
            self._emit_footnotes(page, notes)

    def _emit_footnotes(self, page: int, notes: list[Line]) -> None:
        groups: list[list[str]] = []
        for line in sorted(notes, key=lambda l: l.top):
            if re.match(r"\d{1,3}\b", line.text) or not groups:
                groups.append([])
            groups[-1].append(line.text)
        for group in groups:
            self.b.add(reflow(group), "footnote", page)

    # tables
    def table(self, item: TableItem) -> None:
        """Rows are held until the table ends, so a row that breaks across pages can be joined."""
        self.flush()
        rows = [r for r in item.rows if any(c.strip() for c in r)]
        if not rows:
            return
        open_ = self.open_table
        if open_ and len(rows[0]) == len(open_["header"]):
            if rows[0] == open_["header"]:
                rows = rows[1:]  # the header repeated on the next page
        else:
            self.close_table()
            open_ = self.open_table = {"header": rows[0], "page": item.page, "rows": []}
            rows = rows[1:]
        for row in rows:
            if open_["rows"] and not row[0].strip() and item.page != open_["rows"][-1][1]:
                last, page = open_["rows"][-1]
                open_["rows"][-1] = ([" ".join(x for x in (a, b) if x.strip()) for a, b in zip(last, row)], page)
            else:
                open_["rows"].append((row, item.page))

    def close_table(self) -> None:
        open_, self.open_table = self.open_table, None
        if not open_:
            return
        header = open_["header"]
        labels = [_header_label(h) or f"Kolona {i + 1}" for i, h in enumerate(header)]
        rows, spans = [header], [None]
        for row, page in open_["rows"]:
            text = "; ".join(f"{label}: {cell}" for label, cell in zip(labels, row) if cell.strip())
            block = self.b.add(text, "table_row", page)
            if block is not None:
                rows.append(row)
                spans.append((block.start, block.end))
        self.b.table(rows, spans, open_["page"])

    def finish(self) -> ParsedDocument:
        self.flush()
        self.close_table()
        for page_no, notes in self.pending_notes:
            self._emit_footnotes(page_no, notes)
        doc = self.b.build()
        if self.repairs:
            doc.meta["ocr_repairs"] = self.repairs
        return doc


def _header_label(cell: str) -> str:
    """A header cell's name without the option list some headers carry ("Prioriteti • i lartë …")."""
    return re.split(r"\s[•●▪■◦\uf0b7]\s", cell or "", maxsplit=1)[0].strip()


# --- text ----------------------------------------------------------------------------------------

def reflow(lines: list[str]) -> str:
    """Join a paragraph's lines: words hyphenated at a line end are joined ("sigu-" + "risë")."""
    out = ""
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        if not out:
            out = line
            continue
        match = re.search(r"([^\W\d_]+)-$", out)
        if match and line[:1].islower():
            head = match.group(1)
            tail = re.match(r"[^\W\d_]*", line).group()
            words = albanian_ocr.wordlist()
            if (head + tail).lower() in words or not (head.isupper() or head.lower() in words and tail.lower() in words):
                out = out[:-1] + line  # a word broken by hyphenation
            else:
                out = out + line  # a real hyphen ("KVSP-ve", "plan-veprimi")
        else:
            out = out + " " + line
    return out
