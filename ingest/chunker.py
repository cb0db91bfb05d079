"""Structure-aware chunking: ParsedDocument -> passages of roughly 120-250 words.

A chunk is always an exact span of the stored text (`text == doc.text[start:end]`), so a citation
can highlight it. Structure decides first: a chapter, objective, article (Neni) or measure (Masa)
starts a new chunk and stays whole when it fits; list items and table rows are never cut when
they fit; small neighbouring blocks of one section are merged; a block too long for one chunk is
cut at sentence ends (at word ends only when a sentence alone is too long). Table rows and
footnotes make chunks of their own.
"""
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.model import ParsedDocument
from ingest.formats.text import structure_rank

TOKENS_PER_WORD = 1.6  # multilingual subword tokenizers on Albanian text
# A sentence ends at . ! ? ; (or a line break) before a capital, digit or opening quote.
_BOUNDARY = re.compile(r"(?<=[.!?;])[\"'”»)\]]*\s+(?=[\"'„“«(\[]?[A-ZÇËÁ-Ý0-9])|\s*\n\s*")
_SHORT_WORD = re.compile(r"(?:^|\s)\(?[\w’'-]{1,3}\.$")  # "z.", "nr.", "Dr.", "1.": not a sentence end


@dataclass
class Chunk:
    ord: int
    page: int
    section: list[str]
    start: int
    end: int
    text: str


def embedding_text(chunk: Chunk) -> str:
    """What the embedder reads: the section path, then the passage."""
    path = " > ".join(chunk.section)
    return f"{path}\n{chunk.text}" if path else chunk.text


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.split()) * TOKENS_PER_WORD)


@dataclass
class _Piece:
    start: int
    end: int
    page: int
    section: tuple[str, ...]
    kind: str
    words: int
    structural: bool = False  # a heading that names a unit (chapter, objective, Neni, Masa, 2.1 …)
    top: bool = False  # a top-level heading


class _Chunker:
    def __init__(self, doc: ParsedDocument, min_words: int, max_words: int, max_tokens: int,
                 count_tokens: Callable[[str], int]):
        self.text = doc.text
        self.min_words, self.max_words, self.max_tokens = min_words, max_words, max_tokens
        self.count_tokens = count_tokens
        self.pieces = [piece for block in doc.blocks for piece in self._block_pieces(block)]
        self.segment_rest = self._segment_rest()

    # ---- pieces: blocks, with blocks too long for one chunk cut at sentence ends ----
    def _block_pieces(self, block) -> list[_Piece]:
        text = self.text[block.start:block.end]
        heading = block.kind == "heading"
        whole = _Piece(block.start, block.end, block.page, block.section, block.kind, len(text.split()),
                       heading and structure_rank(text) is not None, heading and block.level == 1)
        if self._fits_text(block.start, block.end, block.section):
            return [whole]
        spans = self._pack(self._sentences(block.start, block.end, block.section), block.section)
        return [_Piece(s, e, block.page, block.section, block.kind, len(self.text[s:e].split())) for s, e in spans]

    def _sentences(self, start: int, end: int, section) -> list[tuple[int, int]]:
        spans, cursor = [], start
        for match in _BOUNDARY.finditer(self.text, start, end):
            before = self.text[cursor:match.start()]
            if "\n" not in match.group() and _SHORT_WORD.search(before):
                continue
            if before.strip():
                spans.append((cursor, match.start()))
            cursor = match.end()
        if self.text[cursor:end].strip():
            spans.append((cursor, end))
        result = []
        for s, e in spans:
            result.extend([(s, e)] if self._fits_text(s, e, section) else self._words(s, e, section))
        return result

    def _words(self, start: int, end: int, section) -> list[tuple[int, int]]:
        """A sentence too long for one chunk, cut between words."""
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", self.text[start:end])]
        spans, first = [], 0
        for i in range(1, len(words) + 1):
            if i == len(words) or not self._fits_text(start + words[first][0], start + words[i][1], section):
                spans.append((start + words[first][0], start + words[i - 1][1]))
                first = i
        return spans

    def _pack(self, spans: list[tuple[int, int]], section) -> list[tuple[int, int]]:
        """Consecutive sentences into spans of balanced size that fit."""
        total = sum(len(self.text[s:e].split()) for s, e in spans)
        target = total / max(math.ceil(total / self.max_words), 1)
        packed: list[tuple[int, int]] = []
        first = last = None
        words = 0
        for s, e in spans:
            n = len(self.text[s:e].split())
            if first is not None and (words + n / 2 > target or not self._fits_text(first, e, section)):
                packed.append((first, last))
                first, words = None, 0
            first = s if first is None else first
            last = e
            words += n
        if first is not None:
            packed.append((first, last))
        return packed

    def _fits_text(self, start: int, end: int, section) -> bool:
        text = self.text[start:end]
        if len(text.split()) > self.max_words:
            return False
        path = " > ".join(section)
        return self.count_tokens(f"{path}\n{text}" if path else text) <= self.max_tokens

    def _segment_rest(self) -> list[int]:
        """For each piece, the words from it to the end of its run of paragraphs and list items."""
        rest = [0] * len(self.pieces)
        running = 0
        for i in range(len(self.pieces) - 1, -1, -1):
            piece = self.pieces[i]
            running = running + piece.words if piece.kind in ("paragraph", "list_item") else 0
            rest[i] = running
        return rest

    # ---- grouping pieces into chunks ----
    def chunks(self) -> list[Chunk]:
        groups: list[list[_Piece]] = []
        current: list[_Piece] = []
        target = math.inf
        for i, piece in enumerate(self.pieces):
            content = sum(p.words for p in current if p.kind != "heading")
            entering = piece.kind in ("paragraph", "list_item") and (
                not current or current[-1].kind not in ("paragraph", "list_item"))
            if entering:
                total = content + self.segment_rest[i]
                target = total / math.ceil(total / self.max_words) if total > self.max_words else math.inf
            if current and self._breaks(current, piece, content, target):
                carry: list[_Piece] = []
                while current and current[-1].kind == "heading":
                    carry.insert(0, current.pop())  # a heading goes with the text it introduces
                if current:
                    groups.append(current)
                current = carry if carry and self._fits(carry + [piece]) else []
                if carry and not current:
                    groups.append(carry)
                if piece.kind in ("paragraph", "list_item"):
                    total = self.segment_rest[i]
                    target = total / math.ceil(total / self.max_words) if total > self.max_words else math.inf
            current.append(piece)
        if current:
            groups.append(current)
        return [self._chunk(n, group) for n, group in enumerate(groups)]

    def _breaks(self, current: list[_Piece], piece: _Piece, content: int, target: float) -> bool:
        kinds = {p.kind for p in current}
        only_headings = kinds == {"heading"}
        if not self._fits(current + [piece]):
            return True
        if piece.kind == "heading":
            if only_headings:
                return False
            if piece.structural or kinds & {"table_row", "footnote"} or content >= self.min_words:
                return True
            if piece.top:
                return content >= self.min_words // 4  # a letterhead line or two joins what follows
            root = self._section(current)
            return piece.section[: max(len(root) - 1, 0)] != root[: max(len(root) - 1, 0)]
        if piece.kind in ("table_row", "footnote"):
            if only_headings and piece.kind == "table_row":
                return False
            same = kinds - {"heading"} <= {piece.kind} and current[-1].section == piece.section
            return not (same and content + piece.words <= self.min_words)
        if kinds & {"table_row", "footnote"}:
            return True
        return content > 0 and content + piece.words / 2 > target

    def _fits(self, pieces: list[_Piece]) -> bool:
        return self._fits_text(pieces[0].start, pieces[-1].end, self._section(pieces))

    @staticmethod
    def _section(pieces: list[_Piece]) -> tuple[str, ...]:
        """The section of the first piece of content (after any leading headings)."""
        for piece in pieces:
            if piece.kind != "heading":
                return piece.section
        return pieces[-1].section

    def _chunk(self, n: int, pieces: list[_Piece]) -> Chunk:
        start, end = pieces[0].start, pieces[-1].end
        return Chunk(n, pieces[0].page, list(self._section(pieces)), start, end, self.text[start:end])


def chunk(doc: ParsedDocument, min_words: int = 120, max_words: int = 250, max_tokens: int = 480,
          count_tokens: Callable[[str], int] | None = None) -> list[Chunk]:
    """The document's chunks in reading order; `count_tokens` is the embedder's tokenizer count
    (default: an estimate of 1.6 tokens per word)."""
    if not doc.blocks:
        return []
    return _Chunker(doc, min_words, max_words, max_tokens, count_tokens or estimate_tokens).chunks()
