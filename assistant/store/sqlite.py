"""The embedded store: one data folder with SQLite (documents, versions, chunks, FTS5 index,
artifacts), a FAISS vector index and the original files, content-addressed.

Lexical search ranks in memory (lexical_index, scored as FTS5's bm25): the FTS5 table holds the
chunks' lexical strings, and the memory index is built from it on the first search after a change.

SQLite is the source of truth: chunk vectors are kept there too, and the FAISS file is a cache
that is rebuilt whenever it does not match the database (a crash between the two never leaves a
half document searchable).
"""
import json
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from assistant.store import vector_index
from assistant.store.base import (ChunkRecord, DocumentRecord, NewChunk, StoredDocument, now, tables_from_json,
                                   tables_to_json)
from assistant.store.files import OriginalFiles
from assistant.store.lexical_index import LexicalIndex

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL,
    current_version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, text TEXT NOT NULL,
    pages INTEGER NOT NULL, meta TEXT NOT NULL, tables TEXT NOT NULL, embedder TEXT NOT NULL,
    created_at TEXT NOT NULL, UNIQUE (document_id, version));
CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    version INTEGER NOT NULL, ord INTEGER NOT NULL, page INTEGER NOT NULL, section TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(lex, tokenize = 'unicode61');
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL);
"""


class SqliteStore:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.files = OriginalFiles(self.data_dir / "files")
        self.db_path = self.data_dir / "kvsp.db"
        self.index_path = self.data_dir / "vectors.faiss"
        self._lock = threading.RLock()
        self.db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self.embedder_id = self._meta("embedder")
        self.index = self._load_index()
        self._lexical: LexicalIndex | None = None  # built on the first lexical search, dropped on change

    # ---- meta and the vector index -------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _load_index(self):
        count = self.db.execute("SELECT count(*), coalesce(max(id), 0) FROM chunks").fetchone()
        stamp = f"{count[0]}:{count[1]}"
        if self.index_path.exists() and self._meta("index_stamp") == stamp:
            return vector_index.read(self.index_path)
        return self._rebuild_index(stamp)

    def _rebuild_index(self, stamp: str | None = None):
        rows = self.db.execute("SELECT id, vector FROM chunks ORDER BY id").fetchall()
        ids = np.array([r["id"] for r in rows], dtype=np.int64)
        vectors = np.vstack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows]) if rows else None
        index = vector_index.build(vectors, ids)
        if index is not None:
            vector_index.write(index, self.index_path)
        if stamp is None:
            count = self.db.execute("SELECT count(*), coalesce(max(id), 0) FROM chunks").fetchone()
            stamp = f"{count[0]}:{count[1]}"
        self._set_meta("index_stamp", stamp)
        return index

    # ---- documents -----------------------------------------------------------------------
    def _record(self, row: sqlite3.Row) -> DocumentRecord:
        return DocumentRecord(
            id=row["id"], title=row["title"], kind=row["kind"], filename=row["filename"], sha256=row["sha256"],
            version=row["version"], pages=row["pages"], chunks=row["n_chunks"], created_at=row["created_at"],
            meta=json.loads(row["meta"]))

    _DOC_SELECT = """SELECT d.id, d.title, d.kind, d.filename, d.created_at, v.sha256, v.version, v.pages,
        v.meta, v.text, v.tables, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS n_chunks
        FROM documents d JOIN versions v ON v.document_id = d.id AND v.version = d.current_version"""

    def find_by_sha(self, sha256: str) -> DocumentRecord | None:
        row = self.db.execute(self._DOC_SELECT + " WHERE v.sha256 = ?", (sha256,)).fetchone()
        return self._record(row) if row else None

    def list_documents(self) -> list[DocumentRecord]:
        return [self._record(r) for r in self.db.execute(self._DOC_SELECT + " ORDER BY d.title")]

    def get_document(self, document_id: str) -> StoredDocument | None:
        row = self.db.execute(self._DOC_SELECT + " WHERE d.id = ?", (document_id,)).fetchone()
        if not row:
            return None
        return StoredDocument(**self._record(row).__dict__, text=row["text"], tables=tables_from_json(row["tables"]))

    def original_bytes(self, document_id: str) -> bytes | None:
        doc = self.get_document(document_id)
        return self.files.read(doc.sha256) if doc else None

    def add_version(self, *, filename, title, kind, sha256, original, text, pages, tables, meta, chunks: list[NewChunk],
                    vectors: np.ndarray, embedder_id: str) -> DocumentRecord:
        if self.embedder_id and self.embedder_id != embedder_id:
            raise ValueError(f"index was built with {self.embedder_id}, not {embedder_id}; re-index first")
        self.files.save(sha256, original)  # content-addressed: an orphan on failure is harmless
        stamp = now()
        with self._lock:
            with self._transaction():
                existing = self.db.execute("SELECT id, current_version FROM documents WHERE filename = ?",
                                           (filename,)).fetchone()
                if existing:
                    doc_id, version = existing["id"], existing["current_version"] + 1
                    old_ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE document_id = ?", (doc_id,))]
                    self._delete_chunks(old_ids)
                    self.db.execute("UPDATE documents SET title=?, kind=?, current_version=?, updated_at=? WHERE id=?",
                                    (title, kind, version, stamp, doc_id))
                else:
                    doc_id, version = "d" + uuid.uuid4().hex[:12], 1
                    old_ids = []
                    self.db.execute("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    (doc_id, filename, title, kind, version, stamp, stamp))
                self.db.execute(
                    "INSERT INTO versions(document_id, version, sha256, size, text, pages, meta, tables, embedder,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, version, sha256, len(original), text, pages, json.dumps(meta, ensure_ascii=False),
                     tables_to_json(tables), embedder_id, stamp))
                new_ids = []
                for chunk, vector in zip(chunks, vectors, strict=True):
                    cur = self.db.execute(
                        'INSERT INTO chunks(document_id, version, ord, page, section, start, "end", text, vector)'
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (doc_id, version, chunk.ord, chunk.page, json.dumps(chunk.section, ensure_ascii=False),
                         chunk.start, chunk.end, chunk.text, np.asarray(vector, dtype=np.float32).tobytes()))
                    new_ids.append(cur.lastrowid)
                    self.db.execute("INSERT INTO chunks_fts(rowid, lex) VALUES (?, ?)", (cur.lastrowid, chunk.lexical))
                if not self.embedder_id:
                    self._set_meta("embedder", embedder_id)
            self.embedder_id = embedder_id
            self._lexical = None
            self._index_changed(remove=old_ids, add_ids=new_ids, add_vectors=vectors)
        return self._record(self.db.execute(self._DOC_SELECT + " WHERE d.id = ?", (doc_id,)).fetchone())

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: a write is all or nothing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _delete_chunks(self, ids: list[int]) -> None:
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            self.db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", part)
            self.db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", part)

    def _index_changed(self, remove: list[int], add_ids: list[int], add_vectors: np.ndarray) -> None:
        if self.index is None or vector_index.needs_rebuild(self.index, self.index.ntotal - len(remove) + len(add_ids)):
            self.index = self._rebuild_index()
            return
        if remove:
            vector_index.remove(self.index, remove)
        if add_ids:
            vector_index.add(self.index, np.asarray(add_vectors, dtype=np.float32), np.array(add_ids, dtype=np.int64))
        vector_index.write(self.index, self.index_path)
        count = self.db.execute("SELECT count(*), coalesce(max(id), 0) FROM chunks").fetchone()
        self._set_meta("index_stamp", f"{count[0]}:{count[1]}")

    def delete_document(self, document_id: str) -> bool:
        with self._lock:
            with self._transaction():
                ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE document_id = ?", (document_id,))]
                self._delete_chunks(ids)
                gone = self.db.execute("DELETE FROM documents WHERE id = ?", (document_id,)).rowcount
                self.db.execute("DELETE FROM versions WHERE document_id = ?", (document_id,))
            if ids:
                self._lexical = None
                self._index_changed(remove=ids, add_ids=[], add_vectors=np.zeros((0, 1), np.float32))
            return bool(gone)

    def ensure_lexical(self, version: str, tokenize) -> int:
        """Re-tokenise the full-text index when it was built with another normalisation version;
        `tokenize(chunk)` gives a chunk's lexical string. Returns how many chunks were redone."""
        if self._meta("lexical_version") == version:
            return 0
        with self._lock:
            with self._transaction():
                chunks = [self._chunk(r) for r in self.db.execute(self._CHUNK_SELECT)]
                self.db.execute("DELETE FROM chunks_fts")
                self.db.executemany("INSERT INTO chunks_fts(rowid, lex) VALUES (?, ?)",
                                    [(c.id, tokenize(c)) for c in chunks])
                self._set_meta("lexical_version", version)
            self._lexical = None
        return len(chunks)

    # ---- chunks and search ---------------------------------------------------------------
    _CHUNK_SELECT = """SELECT c.id, c.document_id, c.version, c.ord, c.page, c.section, c.start, c."end", c.text,
        d.title, d.kind FROM chunks c JOIN documents d ON d.id = c.document_id"""

    @staticmethod
    def _chunk(row: sqlite3.Row) -> ChunkRecord:
        return ChunkRecord(id=row["id"], document_id=row["document_id"], version=row["version"], ord=row["ord"],
                           page=row["page"], section=json.loads(row["section"]), start=row["start"],
                           end=row["end"], text=row["text"], title=row["title"], kind=row["kind"])

    def get_chunks(self, ids: list[int]) -> list[ChunkRecord]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        by_id = {r["id"]: self._chunk(r) for r in self.db.execute(self._CHUNK_SELECT + f" WHERE c.id IN ({marks})", ids)}
        return [by_id[i] for i in ids if i in by_id]

    def document_chunks(self, document_id: str) -> list[ChunkRecord]:
        rows = self.db.execute(self._CHUNK_SELECT + " WHERE c.document_id = ? ORDER BY c.ord", (document_id,))
        return [self._chunk(r) for r in rows]

    def _filter_ids(self, kind: str | None, document_id: str | None) -> list[int] | None:
        if not kind and not document_id:
            return None
        sql, args = "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE 1=1", []
        if kind:
            sql, args = sql + " AND d.kind = ?", args + [kind]
        if document_id:
            sql, args = sql + " AND c.document_id = ?", args + [document_id]
        return [r[0] for r in self.db.execute(sql, args)]

    def _lexical_index(self) -> LexicalIndex:
        index = self._lexical
        if index is None:
            with self._lock:  # one build at a time, and none while a writer changes the chunks
                if self._lexical is None:
                    self._lexical = LexicalIndex(self.db.execute("SELECT rowid, lex FROM chunks_fts ORDER BY rowid"))
                index = self._lexical
        return index

    def lexical_search(self, tokens, k, kind=None, document_id=None) -> list[tuple[int, float]]:
        return self._lexical_index().search(tokens, k, self._filter_ids(kind, document_id))

    def dense_search(self, vector, k, kind=None, document_id=None) -> list[tuple[int, float]]:
        if self.index is None or self.index.ntotal == 0:
            return []
        allowed = self._filter_ids(kind, document_id)
        if allowed is not None and not allowed:
            return []
        return vector_index.search(self.index, np.asarray(vector, dtype=np.float32), k, allowed)

    def dense_scores(self, vector, ids: list[int]) -> dict[int, float]:
        """Cosine similarity of the query to the given chunks (for fusing candidates found by one side)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, vector FROM chunks WHERE id IN ({marks})", list(ids)).fetchall()
        if not rows:
            return {}
        matrix = np.vstack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows])
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        return {r["id"]: float(s) for r, s in zip(rows, scores)}

    # ---- artifacts -----------------------------------------------------------------------
    def save_artifact(self, kind: str, payload: dict) -> str:
        artifact_id = "a" + uuid.uuid4().hex[:16]
        payload = {"id": artifact_id, "kind": kind, "created_at": now(), **payload}
        self.db.execute("INSERT INTO artifacts VALUES (?, ?, ?, ?)",
                        (artifact_id, kind, payload["created_at"], json.dumps(payload, ensure_ascii=False)))
        return artifact_id

    def get_artifact(self, artifact_id: str) -> dict | None:
        row = self.db.execute("SELECT payload FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        return json.loads(row["payload"]) if row else None

    def update_artifact(self, artifact_id: str, payload: dict) -> None:
        self.db.execute("UPDATE artifacts SET payload = ? WHERE id = ?",
                        (json.dumps(payload, ensure_ascii=False), artifact_id))

    def close(self) -> None:
        self.db.close()
