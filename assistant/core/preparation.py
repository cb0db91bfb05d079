"""The costly half of ingesting a file: bytes -> parsed document -> chunks -> vectors, with no store.

It runs in the bounded ingest worker (assistant/core/ingest_worker.py) or, with
KVSP_INGEST_WORKER=false, in the calling process; either way the caller only stores what it returns.
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.core.settings import Settings
from assistant.search.albanian import lexical_tokens
from assistant.store.base import NewChunk
from ingest.model import IngestError, Table

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class PreparedDocument:
    """Everything store.add_version needs besides the original bytes, their hash and the name."""
    title: str
    kind: str
    text: str
    pages: int
    tables: list[Table]
    meta: dict
    chunks: list[NewChunk]
    vectors: np.ndarray
    embedder_id: str


def lexical_string(section: list[str], text: str) -> str:
    """What the full-text index holds for a chunk: its section path and text as lexical tokens."""
    return " ".join(lexical_tokens(" > ".join(section) + "\n" + text))


def prepare_document(settings: Settings, embedder, filename: str, data: bytes,
                     progress: Progress | None = None) -> PreparedDocument:
    from ingest.chunker import chunk, embedding_text
    from ingest.dispatch import guess_kind, guess_title, parse_file

    doc = parse_file(filename, data, ocr_lang=settings.ocr_lang, ocr_workers=settings.ocr_workers,
                     progress=progress, ocr_cache_dir=settings.data_dir / "cache" / "ocr")
    if not doc.text.strip():
        raise IngestError("no_text", f"{filename}: no text could be read from this file")
    chunks = chunk(doc, count_tokens=getattr(embedder, "count_tokens", None))
    texts = [embedding_text(c) for c in chunks]
    if progress:
        progress("embed", 0, len(texts))
    vectors = embedder.embed_passages(
        texts, progress=(lambda done: progress("embed", done, len(texts))) if progress else None)
    new_chunks = [NewChunk(c.ord, c.page, list(c.section), c.start, c.end, c.text, lexical_string(c.section, c.text))
                  for c in chunks]
    return PreparedDocument(title=guess_title(filename, doc), kind=guess_kind(filename, doc), text=doc.text,
                            pages=doc.pages, tables=doc.tables, meta=doc.meta, chunks=new_chunks,
                            vectors=vectors, embedder_id=embedder.version)
