"""The document model every ingestor produces.

The stored text of a document is the concatenation of its blocks, separated by a blank line.
Every block (heading, paragraph, list item, table row, footnote) knows its character span in
that text, its page and its section path, so chunks and citations can point at exact spans.
"""
from dataclasses import dataclass, field

BLOCK_KINDS = ("heading", "paragraph", "list_item", "table_row", "footnote")


class IngestError(ValueError):
    """A file that cannot be ingested; `code` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Block:
    kind: str
    start: int
    end: int
    page: int
    section: tuple[str, ...] = ()
    level: int = 0  # heading level (1 = top) for headings, 0 otherwise


@dataclass
class Table:
    """A table as cells, for structured extraction (plan rows, task tables).

    `rows[i]` is a list of cell texts; `spans[i]` is the (start, end) of row i in the stored
    text (None for header rows that were not stored as their own block).
    """

    rows: list[list[str]]
    spans: list[tuple[int, int] | None]
    page: int
    header_rows: int = 1


@dataclass
class ParsedDocument:
    title: str
    text: str = ""
    pages: int = 1
    blocks: list[Block] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    meta: dict = field(default_factory=dict)  # e.g. {"ocr": True, "ocr_confidence": 91.2}

    def block_text(self, block: Block) -> str:
        return self.text[block.start : block.end]


class DocumentBuilder:
    """Appends blocks to a document's text and records their spans: the one way to build a
    ParsedDocument, so offsets are right by construction."""

    SEPARATOR = "\n\n"

    def __init__(self, title: str):
        self.doc = ParsedDocument(title=title)
        self._parts: list[str] = []
        self._length = 0
        self.section: list[str] = []

    def heading(self, text: str, level: int, page: int = 1) -> Block | None:
        """Add a heading and make it the current section at `level` (1 = top)."""
        text = " ".join(text.split())
        if not text:
            return None
        del self.section[max(level - 1, 0) :]
        self.section.append(text)
        return self.add(text, "heading", page, level=level)

    def add(self, text: str, kind: str = "paragraph", page: int = 1, level: int = 0) -> Block | None:
        text = text.strip()
        if not text:
            return None
        if self._parts:
            self._parts.append(self.SEPARATOR)
            self._length += len(self.SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        block = Block(kind, start, self._length, page, tuple(self.section), level)
        self.doc.blocks.append(block)
        return block

    def table(self, rows: list[list[str]], spans: list[tuple[int, int] | None], page: int, header_rows: int = 1):
        self.doc.tables.append(Table(rows, spans, page, header_rows))

    def build(self, pages: int | None = None, **meta) -> ParsedDocument:
        self.doc.text = "".join(self._parts)
        self.doc.pages = pages or max((b.page for b in self.doc.blocks), default=1)
        self.doc.meta.update(meta)
        return self.doc
