"""The path of a file: bytes -> ingest/<format> -> chunker -> embedder -> store, all-or-nothing."""
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.search.albanian import lexical_tokens
from assistant.store.base import DocumentRecord, NewChunk
from ingest.model import IngestError

SUPPORTED = (".pdf", ".docx", ".txt", ".md")
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IngestResult:
    status: str  # "added", "updated" or "unchanged"
    document: DocumentRecord


def safe_filename(name: str | None) -> str:
    """The last path component of an uploaded name, for display and version matching only:
    it never becomes a path on disk (originals are stored by content hash)."""
    name = (name or "").replace("\\", "/").split("/")[-1].strip().lstrip(".")
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or "document"


def lexical_string(section: list[str], text: str) -> str:
    """What the full-text index holds for a chunk: its section path and text as lexical tokens."""
    return " ".join(lexical_tokens(" > ".join(section) + "\n" + text))


def ingest_bytes(services, filename: str, data: bytes, progress: Progress | None = None) -> IngestResult:
    from ingest.chunker import chunk, embedding_text
    from ingest.dispatch import guess_kind, guess_title, parse_file

    settings, store = services.settings, services.store
    filename = safe_filename(filename)
    if len(data) > settings.upload_limit_bytes:
        raise IngestError("too_large", f"{filename}: larger than the {settings.upload_limit_mb} MB upload limit")
    sha256 = hashlib.sha256(data).hexdigest()
    existing = store.find_by_sha(sha256)
    if existing:
        return IngestResult("unchanged", existing)
    doc = parse_file(filename, data, ocr_lang=settings.ocr_lang, ocr_workers=settings.ocr_workers,
                     progress=progress, ocr_cache_dir=settings.data_dir / "cache" / "ocr")
    if not doc.text.strip():
        raise IngestError("no_text", f"{filename}: no text could be read from this file")
    chunks = chunk(doc, count_tokens=services.embedder.count_tokens)
    texts = [embedding_text(c) for c in chunks]
    if progress:
        progress("embed", 0, len(texts))
    vectors = services.embedder.embed_passages(
        texts, progress=(lambda done: progress("embed", done, len(texts))) if progress else None)
    new_chunks = [NewChunk(c.ord, c.page, list(c.section), c.start, c.end, c.text, lexical_string(c.section, c.text))
                  for c in chunks]
    record = store.add_version(
        filename=filename, title=guess_title(filename, doc), kind=guess_kind(filename, doc), sha256=sha256,
        original=data, text=doc.text, pages=doc.pages, tables=doc.tables, meta=doc.meta, chunks=new_chunks,
        vectors=vectors, embedder_id=services.embedder.version)
    return IngestResult("updated" if record.version > 1 else "added", record)


def ingest_upload(services, actor: str, filename: str, data: bytes, progress: Progress | None = None) -> IngestResult:
    """An upload from the page or the API: ingested, and recorded in the audit log when it stored something."""
    from assistant.accounts import audit

    result = ingest_bytes(services, filename, data, progress=progress)
    if result.status != "unchanged":
        doc = result.document
        audit.record(services.database, actor, f"document.{result.status}", "document", doc.id,
                     {"title": doc.title, "filename": doc.filename, "sha256": doc.sha256, "version": doc.version})
    return result


def iter_files(paths: list[Path]) -> list[Path]:
    """Files under the given paths that an ingestor supports, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED))
        else:
            found.append(path)
    return found
