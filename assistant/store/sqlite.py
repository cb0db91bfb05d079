"""The embedded store: one data folder with SQLite (documents, versions, chunks, FTS5 index,
artifacts), a FAISS vector index and the original files, content-addressed.

Lexical search ranks in memory (lexical_index, scored as FTS5's bm25): the FTS5 table holds the
chunks' lexical strings, the memory index is built from it on the first search, and a write of
this process then changes it for the written chunks only (another process's write, or a
re-tokenising, has it built again).

SQLite is the source of truth: chunk vectors are kept there too, and the FAISS file is a cache
checked against the database's chunk ids at open and rebuilt when they differ (a crash between the
two never leaves a half document searchable). Every write holds the data folder's writer lock
(assistant/store/database.py) and counts up `generation` in `meta`: a process that sees another
generation than its memory indexes were made for (another process wrote) reloads them first.
"""
import json
import sqlite3
import threading
import uuid
from pathlib import Path

import numpy as np

from assistant.store import vector_index
from assistant.store.base import (ChunkRecord, DocumentRecord, NewChunk, StoredDocument, now, tables_from_json,
                                   tables_to_json)
from assistant.store.database import DB_FILE, open_database
from assistant.store.files import OriginalFiles
from assistant.store.lexical_index import LexicalIndex


class SqliteStore:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.files = OriginalFiles(self.data_dir / "files")
        self.database = open_database(self.data_dir / DB_FILE)
        self.index_path = self.data_dir / "vectors.faiss"
        self._cache_lock = threading.Lock()  # one lexical build at a time
        self.index = None
        self._lexical: LexicalIndex | None = None  # built on the first lexical search, changed by writes
        self._lexical_generation: str | None = None  # the database generation self._lexical reflects
        self._generation: str | None = None  # the database generation self.index and self._lexical reflect
        self._sync()
        self.embedder_id = self._meta("embedder")

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection to the data folder's database."""
        return self.database.connection()

    # ---- meta and the vector index -------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _next_generation(self) -> str:
        """Count this write (inside its transaction); other processes see it and reload."""
        generation = str(int(self._meta("generation") or 0) + 1)
        self._set_meta("generation", generation)
        return generation

    def _sync(self) -> None:
        """Make the memory indexes match the database: the FAISS file if it holds exactly the
        chunks' ids, else a rebuild from the chunks' vectors."""
        with self.database.writer():
            generation = self._meta("generation")
            index = vector_index.read(self.index_path) if self.index_path.exists() else None
            chunk_ids = np.array([r[0] for r in self.db.execute("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)
            if not np.array_equal(vector_index.ids(index), chunk_ids):
                index = self._rebuild_index()
            self.index, self._generation = index, generation
            self._drop_lexical(unless_at=generation)

    def _fresh(self) -> None:
        """Reload the memory indexes if another process wrote since they were made."""
        if self._meta("generation") != self._generation:
            self._sync()

    def _rebuild_index(self):
        rows = self.db.execute("SELECT id, vector FROM chunks ORDER BY id").fetchall()
        ids = np.array([r["id"] for r in rows], dtype=np.int64)
        vectors = np.vstack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows]) if rows else None
        index = vector_index.build(vectors, ids)
        if index is not None:
            vector_index.write(index, self.index_path)
        else:
            self.index_path.unlink(missing_ok=True)
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
        self.files.save(sha256, original)  # content-addressed: an orphan on failure is harmless
        stamp = now()
        with self.database.writer():
            self._fresh()
            self.embedder_id = self._meta("embedder")  # another process may have stored the first document
            if self.embedder_id and self.embedder_id != embedder_id:
                raise ValueError(f"index was built with {self.embedder_id}, not {embedder_id}; re-index first")
            with self.database.transaction() as db:
                existing = db.execute("SELECT d.id, d.current_version, v.sha256 FROM documents d JOIN versions v"
                                      " ON v.document_id = d.id AND v.version = d.current_version"
                                      " WHERE d.filename = ?", (filename,)).fetchone()
                if existing and existing["sha256"] == sha256:  # a writer that went first stored this very file
                    return self._record(db.execute(self._DOC_SELECT + " WHERE d.id = ?", (existing["id"],)).fetchone())
                if existing:
                    doc_id, version = existing["id"], existing["current_version"] + 1
                    old_ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE document_id = ?", (doc_id,))]
                    self._delete_chunks(db, old_ids)
                    db.execute("UPDATE documents SET title=?, kind=?, current_version=?, updated_at=? WHERE id=?",
                               (title, kind, version, stamp, doc_id))
                else:
                    doc_id, version = "d" + uuid.uuid4().hex[:12], 1
                    old_ids = []
                    db.execute("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (doc_id, filename, title, kind, version, stamp, stamp))
                db.execute(
                    "INSERT INTO versions(document_id, version, sha256, size, text, pages, meta, tables, embedder,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, version, sha256, len(original), text, pages, json.dumps(meta, ensure_ascii=False),
                     tables_to_json(tables), embedder_id, stamp))
                new_ids = []
                for chunk, vector in zip(chunks, vectors, strict=True):
                    cur = db.execute(
                        'INSERT INTO chunks(document_id, version, ord, page, section, start, "end", text, vector)'
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (doc_id, version, chunk.ord, chunk.page, json.dumps(chunk.section, ensure_ascii=False),
                         chunk.start, chunk.end, chunk.text, np.asarray(vector, dtype=np.float32).tobytes()))
                    new_ids.append(cur.lastrowid)
                    db.execute("INSERT INTO chunks_fts(rowid, lex) VALUES (?, ?)", (cur.lastrowid, chunk.lexical))
                if not self.embedder_id:
                    self._set_meta("embedder", embedder_id)
                generation = self._next_generation()
            self.embedder_id = embedder_id
            self._index_changed(generation, remove=old_ids, add_ids=new_ids, add_vectors=vectors,
                                add_lexical=[c.lexical for c in chunks])
        return self._record(self.db.execute(self._DOC_SELECT + " WHERE d.id = ?", (doc_id,)).fetchone())

    @staticmethod
    def _delete_chunks(db: sqlite3.Connection, ids: list[int]) -> None:
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", part)
            db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", part)

    def _index_changed(self, generation: str, remove: list[int], add_ids: list[int], add_vectors: np.ndarray,
                       add_lexical: list[str] = ()) -> None:
        """Apply a committed write to the memory indexes and the FAISS file (under the writer lock)."""
        with self._cache_lock:  # the lexical index changes only if it was made just before this write
            if self._lexical is not None and self._lexical_generation == str(int(generation) - 1):
                self._lexical = self._lexical.changed(remove, zip(add_ids, add_lexical, strict=True))
                self._lexical_generation = generation
            else:
                self._lexical = None
        if self.index is None or vector_index.needs_rebuild(self.index, self.index.ntotal - len(remove) + len(add_ids)):
            self.index = self._rebuild_index()
        else:
            if remove:
                vector_index.remove(self.index, remove)
            if add_ids:
                vector_index.add(self.index, np.asarray(add_vectors, dtype=np.float32),
                                 np.array(add_ids, dtype=np.int64))
            vector_index.write(self.index, self.index_path)
        self._generation = generation

    def delete_document(self, document_id: str) -> bool:
        with self.database.writer():
            self._fresh()
            with self.database.transaction() as db:
                ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE document_id = ?", (document_id,))]
                self._delete_chunks(db, ids)
                gone = db.execute("DELETE FROM documents WHERE id = ?", (document_id,)).rowcount
                db.execute("DELETE FROM versions WHERE document_id = ?", (document_id,))
                generation = self._next_generation() if gone else None
            if generation:
                self._index_changed(generation, remove=ids, add_ids=[], add_vectors=np.zeros((0, 1), np.float32))
            return bool(gone)

    def ensure_lexical(self, version: str, tokenize) -> int:
        """Re-tokenise the full-text index when it was built with another normalisation version;
        `tokenize(chunk)` gives a chunk's lexical string. Returns how many chunks were redone."""
        if self._meta("lexical_version") == version:
            return 0
        with self.database.writer():
            self._fresh()
            with self.database.transaction() as db:
                if self._meta("lexical_version") == version:  # another process did it meanwhile
                    return 0
                chunks = [self._chunk(r) for r in db.execute(self._CHUNK_SELECT)]
                db.execute("DELETE FROM chunks_fts")
                db.executemany("INSERT INTO chunks_fts(rowid, lex) VALUES (?, ?)",
                               [(c.id, tokenize(c)) for c in chunks])
                self._set_meta("lexical_version", version)
                generation = self._next_generation()
            self._drop_lexical()
            self._generation = generation
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
        self._fresh()
        index = self._lexical
        if index is None:
            with self._cache_lock:
                if self._lexical is None:
                    self._lexical, self._lexical_generation = self._read_lexical()
                index = self._lexical
        return index

    def _drop_lexical(self, unless_at: str | None = None) -> None:
        """Forget the lexical index unless it reflects generation `unless_at` (after the build it may be in)."""
        with self._cache_lock:
            if unless_at is None or self._lexical_generation != unless_at:
                self._lexical = None

    def _read_lexical(self) -> tuple[LexicalIndex, str | None]:
        """The lexical index of the committed chunks and the generation it reflects, read in one
        snapshot, so that a write committed meanwhile is applied to it exactly once."""
        db = self.db
        db.execute("BEGIN")
        try:
            generation = self._meta("generation")
            return LexicalIndex(db.execute("SELECT rowid, lex FROM chunks_fts ORDER BY rowid")), generation
        finally:
            db.execute("COMMIT")

    def lexical_search(self, tokens, k, kind=None, document_id=None) -> list[tuple[int, float]]:
        return self._lexical_index().search(tokens, k, self._filter_ids(kind, document_id))

    def dense_search(self, vector, k, kind=None, document_id=None) -> list[tuple[int, float]]:
        self._fresh()
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
        with self.database.transaction() as db:
            db.execute("INSERT INTO artifacts VALUES (?, ?, ?, ?)",
                       (artifact_id, kind, payload["created_at"], json.dumps(payload, ensure_ascii=False)))
        return artifact_id

    def get_artifact(self, artifact_id: str) -> dict | None:
        row = self.db.execute("SELECT payload FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        return json.loads(row["payload"]) if row else None

    def update_artifact(self, artifact_id: str, payload: dict) -> None:
        with self.database.transaction() as db:
            db.execute("UPDATE artifacts SET payload = ? WHERE id = ?",
                       (json.dumps(payload, ensure_ascii=False), artifact_id))

    def close(self) -> None:
        self.database.close()
