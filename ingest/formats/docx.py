"""DOCX -> ParsedDocument with python-docx: the body in document order (paragraphs and tables
interleaved), heading styles and clear unstyled headings as the section path, list paragraphs
as list items, one labelled block per table row, footnotes at the end.

Word files have no pages; the page of a block is estimated from the breaks the file records
(rendered page breaks when Word saved them, else explicit page breaks, page-break-before and
section breaks). Running headers and footers are not body text and are left out.
"""
import io
import re
import zipfile

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.parser import parse_xml
from docx.text.paragraph import Paragraph

from ingest.albanian.markers import ITEM
from ingest.limits import DEFAULT_LIMITS, Deadline, Limits, check_chars, check_zip_members
from ingest.model import DocumentBuilder, IngestError, ParsedDocument
from ingest.formats.text import (HeadingLevels, add_table, is_caps_heading, is_short_label, looks_like_header,
                         structure_rank)

MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 100
BIG_MEMBER = 2 * 1024 * 1024  # the ratio test applies to members at least this large
_HEADING_STYLE = re.compile(r"(?i)^(?:heading|titull\w*|kreu)\s*(\d)$")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def check_zip(data: bytes, title: str) -> zipfile.ZipFile:
    """Open the zip and refuse a zip bomb from its directory, before anything is extracted."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError("corrupt_docx", f"{title}: not a valid Word (.docx) file ({exc})") from None
    if sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
        raise IngestError("zip_bomb", f"{title}: unpacks to more than {MAX_UNCOMPRESSED // 2**20} MB")
    for member in members:
        if member.file_size >= BIG_MEMBER and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise IngestError("zip_bomb", f"{title}: {member.filename} is compressed suspiciously well")
    return archive


def parse_docx(data: bytes, title: str, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    deadline = Deadline(title, limits)
    archive = check_zip(data, title)
    if "word/document.xml" not in archive.namelist():
        raise IngestError("corrupt_docx", f"{title}: a zip file, but not a Word document")
    check_zip_members(archive, title, limits)  # the headers above may lie: count what really inflates
    try:
        document = Document(io.BytesIO(data))
        walker = _BodyWalker(document, title, deadline)
        walker.walk(document.element.body)
        footnotes = _footnotes(archive, document)
        core_title = (document.core_properties.title or "").strip()
    except IngestError:
        raise
    except Exception as exc:  # python-docx and lxml raise many kinds on a damaged part (styles, footnotes…)
        raise IngestError("corrupt_docx", f"{title}: the Word file could not be read ({type(exc).__name__})") from None
    for number, text in footnotes:
        walker.builder.add(f"{number} {text}", "footnote", walker.page)
    meta = {"page_estimate": walker.page_source}
    if walker.title or core_title:
        meta["title"] = walker.title or core_title
    if not walker.builder.doc.blocks:
        raise IngestError("no_text", f"{title}: the Word document has no text")
    doc = walker.builder.build(pages=walker.page, **meta)
    check_chars(len(doc.text), title, limits)
    return doc


class _BodyWalker:
    def __init__(self, document, title: str, deadline: Deadline):
        self.document = document
        self.deadline = deadline
        self.builder = DocumentBuilder(title)
        self.levels = HeadingLevels()
        self.structural_level = 0.0  # level of the last real (styled or structure-word) heading
        self.title = ""
        body = document.element.body
        self.rendered = body.find(f".//{_W}lastRenderedPageBreak") is not None
        self.page_source = "rendered" if self.rendered else "breaks"
        self.page = 1
        self._section_starts = self._new_page_sections(body)
        # python-docx looks styles up by scanning styles.xml on every access: index them once
        self._styles = {(s.type, s.style_id): s for s in document.styles}
        self._default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)

    def _style(self, paragraph: Paragraph):
        style_id = paragraph._p.style
        return self._styles.get((WD_STYLE_TYPE.PARAGRAPH, style_id), self._default) if style_id else self._default

    # ---- pages ----
    @staticmethod
    def _new_page_sections(body) -> dict:
        """For each paragraph that ends a section: does the next section start on a new page?"""
        props = body.findall(f".//{_W}pPr/{_W}sectPr") + body.findall(f"{_W}sectPr")
        result = {}
        for current, following in zip(props, props[1:]):
            kind = following.find(f"{_W}type")
            result[current] = kind is None or kind.get(f"{_W}val") != "continuous"
        return result

    def _breaks(self, element) -> tuple[int, int]:
        """Page breaks in an element before its first text, and after it."""
        before = after = 0
        seen_text = False
        for node in element.iter(f"{_W}t", f"{_W}br", f"{_W}lastRenderedPageBreak", f"{_W}pageBreakBefore"):
            tag = node.tag
            if tag == f"{_W}t":
                seen_text = seen_text or bool((node.text or "").strip())
                continue
            if self.rendered:
                is_break = tag == f"{_W}lastRenderedPageBreak"
            elif tag == f"{_W}br":
                is_break = node.get(f"{_W}type") == "page"
            else:
                is_break = tag == f"{_W}pageBreakBefore" and node.get(f"{_W}val") not in ("0", "false")
            if is_break:
                if seen_text:
                    after += 1
                else:
                    before += 1
        return before, after

    def _style_breaks_before(self, style) -> bool:
        while style is not None and not self.rendered:
            ppr = style.element.find(f"{_W}pPr")
            flag = ppr.find(f"{_W}pageBreakBefore") if ppr is not None else None
            if flag is not None:
                return flag.get(f"{_W}val") not in ("0", "false")
            style = style.base_style
        return False

    # ---- walking ----
    def walk(self, container):
        for element in container.iterchildren():
            self.deadline.check()
            if element.tag == f"{_W}p":
                self.paragraph(Paragraph(element, self.document))
            elif element.tag == f"{_W}tbl":
                self.table(element)
            elif element.tag in (f"{_W}sdt", f"{_W}customXml"):
                content = element.find(f"{_W}sdtContent")
                self.walk(content if content is not None else element)

    def paragraph(self, paragraph: Paragraph):
        before, after = self._breaks(paragraph._p)
        style = self._style(paragraph)
        if before == 0 and self._style_breaks_before(style) and self.builder.doc.blocks:
            before = 1
        self.page += before if self.builder.doc.blocks else 0  # nothing precedes the first page
        self._add_paragraph(paragraph, style)
        self.page += after
        ppr = paragraph._p.find(f"{_W}pPr")
        sect = ppr.find(f"{_W}sectPr") if ppr is not None else None
        if sect is not None and self._section_starts.get(sect) and not self.rendered:
            self.page += 1

    def _add_paragraph(self, paragraph: Paragraph, style):
        text = " ".join(paragraph.text.split())
        if not text:
            return
        name = (style.name or "") if style is not None else ""
        if name.lower().startswith("toc"):
            return  # a table of contents repeats the headings
        level = self._style_level(paragraph, style)
        if level is not None:
            if level == 0:
                self.title = self.title or text
                level = 1
            self.structural_level = level
            self._heading(text, level)
            return
        if self._is_list(paragraph, name):
            self.builder.add(text, "list_item", self.page)
            return
        rank = structure_rank(text)
        if rank is not None:
            self.structural_level = rank
            self._heading(text, rank)
        elif is_caps_heading(text) or (is_short_label(text) and self._bold_only(paragraph, style)):
            self._heading(text, self.structural_level + 1)
        elif ITEM.match(text):
            self.builder.add(text, "list_item", self.page)
        else:
            self.builder.add(text, "paragraph", self.page)

    def _heading(self, text: str, level: float):
        self.builder.heading(text, self.levels.depth(level), self.page)

    @staticmethod
    def _style_level(paragraph: Paragraph, style) -> int | None:
        """Heading level from the style (0 = the document title), or from an outline level."""
        style_name = (style.name or "") if style is not None else ""
        if style_name.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(style_name)
        if match:
            return int(match.group(1))
        holders = [paragraph._p.find(f"{_W}pPr")]
        while style is not None:
            holders.append(style.element.find(f"{_W}pPr"))
            style = style.base_style
        for ppr in holders:
            outline = ppr.find(f"{_W}outlineLvl") if ppr is not None else None
            if outline is not None:
                value = int(outline.get(f"{_W}val", "9"))
                return value + 1 if value < 9 else None
        return None

    @staticmethod
    def _is_list(paragraph: Paragraph, style_name: str) -> bool:
        if "list" in style_name.lower():
            return True
        ppr = paragraph._p.find(f"{_W}pPr")
        return ppr is not None and ppr.find(f"{_W}numPr") is not None

    def _bold_only(self, paragraph: Paragraph, style) -> bool:
        """Every run with text is bold, directly or through its character or paragraph style."""
        runs = [run for run in paragraph.runs if run.text.strip()]
        if not runs:
            return False
        style_bold = bool(style is not None and style.font.bold)
        for run in runs:
            bold = run.bold
            if bold is None:
                char_style = self._styles.get((WD_STYLE_TYPE.CHARACTER, run._r.style))
                bold = bool(char_style is not None and char_style.font.bold) or style_bold
            if not bold:
                return False
        return True

    def table(self, tbl):
        rows, header_rows, start_page = self._table_rows(tbl)
        if rows:
            add_table(self.builder, rows, start_page, header_rows)

    def _table_rows(self, tbl) -> tuple[list[list[list[str]]], int, int]:
        """Grid-aligned rows of cell lines (vertical merges resolved), the number of header rows
        and the page the table starts on."""
        grid = tbl.find(f"{_W}tblGrid")
        columns = len(grid.findall(f"{_W}gridCol")) if grid is not None else 0
        physical: list[list[list[str] | None]] = []
        continued: list[set[int]] = []
        marked_header = 0
        spanned_first_row = False
        start_page = None
        for r, tr in enumerate(tbl.findall(f"{_W}tr")):
            breaks = [self._breaks(tc) for tc in tr.findall(f"{_W}tc")] or [(0, 0)]
            self.page += max(before for before, _ in breaks) if self.builder.doc.blocks else 0
            start_page = start_page or self.page
            trpr = tr.find(f"{_W}trPr")
            if trpr is not None and trpr.find(f"{_W}tblHeader") is not None and marked_header == r:
                marked_header += 1
            skip = trpr.find(f"{_W}gridBefore") if trpr is not None else None
            col = int(skip.get(f"{_W}val", "0")) if skip is not None else 0
            row: list[list[str] | None] = [[] for _ in range(col)]
            merged_down: set[int] = set()
            for tc in tr.findall(f"{_W}tc"):
                tcpr = tc.find(f"{_W}tcPr")
                span_el = tcpr.find(f"{_W}gridSpan") if tcpr is not None else None
                span = int(span_el.get(f"{_W}val", "1")) if span_el is not None else 1
                vmerge = tcpr.find(f"{_W}vMerge") if tcpr is not None else None
                if vmerge is not None and vmerge.get(f"{_W}val", "continue") == "continue":
                    merged_down.add(len(row))
                    row.append([])
                else:
                    row.append(_cell_lines(tc, self.document))
                row.extend([None] * (span - 1))  # a horizontally merged cell counts once
                if span > 1 and r == 0:
                    spanned_first_row = True
            physical.append(row)
            continued.append(merged_down)
            self.page += max(after for _, after in breaks)
        if not physical:
            return [], 0, self.page
        columns = max([columns] + [len(r) for r in physical])
        for row in physical:
            row.extend([[] for _ in range(columns - len(row))])
        header_rows = marked_header
        if not header_rows and len(physical) >= 2 and looks_like_header([c or [] for c in physical[0]]):
            header_rows = 1
        if header_rows == 1 and spanned_first_row and len(physical) > 2 and continued[1]:
            header_rows = 2  # a grouped header: the second row names the sub-columns
        body = self._resolve_vertical(physical[header_rows:], continued[header_rows:])
        rows = [[c or [] for c in row] for row in physical[:header_rows]] + body
        return rows, header_rows, start_page or self.page

    @staticmethod
    def _resolve_vertical(rows, continued) -> list[list[list[str] | None]]:
        """A row whose first cell is empty or continues a vertical merge belongs to the row above
        (its lines are joined in); a row with its own first cell repeats the merged values it
        shares with the row above, so every row reads on its own."""
        resolved: list[list[list[str] | None]] = []
        for row, merged in zip(rows, continued):
            first_empty = 0 in merged or not row[0]
            has_text = any(cell for col, cell in enumerate(row) if cell and col not in merged)
            if resolved and first_empty and has_text:
                above = resolved[-1]
                for col, cell in enumerate(row):
                    if cell and col not in merged:
                        above[col] = (above[col] or []) + cell
                continue
            for col in merged:
                if resolved:
                    row[col] = list(resolved[-1][col] or [])
            resolved.append(row)
        return resolved


def _cell_lines(tc, document) -> list[str]:
    """The paragraphs of a cell (nested tables included), one line each."""
    lines = []
    for p in tc.iter(f"{_W}p"):
        text = " ".join(Paragraph(p, document).text.split())
        if text:
            lines.append(text)
    return lines


def _footnotes(archive: zipfile.ZipFile, document) -> list[tuple[int, str]]:
    """Footnote texts numbered in the order the body refers to them."""
    if "word/footnotes.xml" not in archive.namelist():
        return []
    root = parse_xml(archive.read("word/footnotes.xml"))
    texts = {}
    for note in root.findall(f"{_W}footnote"):
        if note.get(f"{_W}type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        lines = [" ".join(Paragraph(p, document).text.split()) for p in note.iter(f"{_W}p")]
        text = " ".join(line for line in lines if line)
        if text:
            texts[note.get(f"{_W}id")] = text
    order = [ref.get(f"{_W}id") for ref in document.element.body.iter(f"{_W}footnoteReference")]
    order += [note_id for note_id in texts if note_id not in order]
    numbered, seen = [], set()
    for note_id in order:
        if note_id in texts and note_id not in seen:
            seen.add(note_id)
            numbered.append((len(numbered) + 1, texts[note_id]))
    return numbered
