"""The path of a file: bytes -> ingest/<format> -> chunker -> embedder (preparation.py, in a bounded
worker process by default) -> store, all-or-nothing."""
import hashlib
from dataclasses import dataclass
from pathlib import Path

from assistant.core.preparation import PreparedDocument, Progress, prepare_document
from assistant.store.base import DocumentRecord
from ingest.model import IngestError

SUPPORTED = (".pdf", ".docx", ".txt", ".md")


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


def prepare(services, filename: str, data: bytes, progress: Progress | None) -> PreparedDocument:
    """Parse, chunk and embed: in a bounded worker process (the default), or here when
    KVSP_INGEST_WORKER is off."""
    if services.settings.ingest_worker:
        prepared = services.ingest_workers().prepare(filename, data, progress)
        if prepared.embedder_id != services.embedder.version:  # vectors must share the index's space
            raise RuntimeError(f"the ingest worker embedded with {prepared.embedder_id}, "
                               f"this process searches with {services.embedder.version}")
        return prepared
    return prepare_document(services.settings, services.embedder, filename, data, progress)


def ingest_bytes(services, filename: str, data: bytes, progress: Progress | None = None) -> IngestResult:
    """The one way a file enters the store: checked, skipped when its bytes are known, prepared,
    stored in one step."""
    settings, store = services.settings, services.store
    filename = safe_filename(filename)
    if len(data) > settings.upload_limit_bytes:
        raise IngestError("too_large", f"{filename}: larger than the {settings.upload_limit_mb} MB upload limit")
    sha256 = hashlib.sha256(data).hexdigest()
    existing = store.find_by_sha(sha256)
    if existing:
        return IngestResult("unchanged", existing)
    doc = prepare(services, filename, data, progress)
    if progress:
        progress("store", 0, 1)
    record = store.add_version(
        filename=filename, title=doc.title, kind=doc.kind, sha256=sha256, original=data, text=doc.text,
        pages=doc.pages, tables=doc.tables, meta=doc.meta, chunks=doc.chunks, vectors=doc.vectors,
        embedder_id=doc.embedder_id)
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
