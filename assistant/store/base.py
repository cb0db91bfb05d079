"""The store interface: documents, versions, chunks, lexical and dense search, artifacts.

Two backends implement it: SQLite + FAISS in one data folder (default) and PostgreSQL +
pgvector (`KVSP_DATABASE_URL`). Everything above the store talks only to this interface.
"""
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

import numpy as np

from ingest.model import Table


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def tables_to_json(tables: list[Table]) -> str:
    """Tables as both backends store them (a JSON list of Table fields)."""
    return json.dumps([t.__dict__ for t in tables], ensure_ascii=False)


def tables_from_json(raw: str) -> list[Table]:
    return [Table(rows=t["rows"], spans=[tuple(s) if s else None for s in t["spans"]], page=t["page"],
                  header_rows=t.get("header_rows", 1)) for t in json.loads(raw)]


@dataclass
class ChunkRecord:
    id: int
    document_id: str
    version: int
    ord: int
    page: int
    section: list[str]
    start: int
    end: int
    text: str
    title: str = ""
    kind: str = ""


@dataclass
class DocumentRecord:
    id: str
    title: str
    kind: str
    filename: str
    sha256: str
    version: int
    pages: int
    chunks: int
    created_at: str
    meta: dict = field(default_factory=dict)

    def public(self) -> dict:
        return {"id": self.id, "title": self.title, "kind": self.kind, "filename": self.filename,
                "pages": self.pages, "chunks": self.chunks, "sha256": self.sha256,
                "version": self.version, "created_at": self.created_at, "meta": self.meta}


@dataclass
class StoredDocument(DocumentRecord):
    """A document with the stored text of its current version and its tables."""

    text: str = ""
    tables: list[Table] = field(default_factory=list)


@dataclass
class NewChunk:
    ord: int
    page: int
    section: list[str]
    start: int
    end: int
    text: str
    lexical: str  # normalised tokens, space separated, for the full-text index


class Store(Protocol):
    embedder_id: str | None

    def find_by_sha(self, sha256: str) -> DocumentRecord | None: ...
    def add_version(self, *, filename: str, title: str, kind: str, sha256: str, original: bytes,
                    text: str, pages: int, tables: list[Table], meta: dict,
                    chunks: list[NewChunk], vectors: np.ndarray, embedder_id: str) -> DocumentRecord:
        """Store a new document or a new version of the document with the same filename,
        all-or-nothing; the previous version's chunks leave the index in the same step."""
    def ensure_lexical(self, version: str, tokenize) -> int:
        """Rebuild the full-text index if it was made with another normalisation version."""
    def list_documents(self) -> list[DocumentRecord]: ...
    def get_document(self, document_id: str) -> StoredDocument | None: ...
    def document_chunks(self, document_id: str) -> list[ChunkRecord]: ...
    def delete_document(self, document_id: str) -> bool: ...
    def original_bytes(self, document_id: str) -> bytes | None: ...
    def get_chunks(self, ids: list[int]) -> list[ChunkRecord]: ...
    def lexical_search(self, tokens: list[str], k: int, kind: str | None = None,
                       document_id: str | None = None) -> list[tuple[int, float]]: ...
    def dense_search(self, vector: np.ndarray, k: int, kind: str | None = None,
                     document_id: str | None = None) -> list[tuple[int, float]]: ...
    def dense_scores(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine similarity of `vector` to each of the given chunks."""
    def save_artifact(self, kind: str, payload: dict) -> str: ...
    def get_artifact(self, artifact_id: str) -> dict | None: ...
    def update_artifact(self, artifact_id: str, payload: dict) -> None: ...
    def close(self) -> None: ...
