"""The PostgreSQL store: the same model as the SQLite store on a server several workers share.

Full-text search runs over the chunks' normalised token strings with the 'simple' text search
configuration and is ranked by the BM25 formula SQLite's FTS5 uses, so both backends order
lexical hits alike. Dense search uses pgvector's HNSW index (cosine). Original files stay
content-addressed in `data_dir/files`, which every worker must see (see the README).
"""
import math
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from assistant.store import migrations
from assistant.store.base import (ChunkRecord, DocumentRecord, NewChunk, StoredDocument, now, tables_from_json,
                                   tables_to_json)
from assistant.store.files import OriginalFiles
from assistant.store.pg_database import PostgresDatabase
from ingest.model import Table

SETUP_LOCK = 7_415_920_002  # serialises fixing the embedder and the vector dimension
EF_SEARCH = 100  # HNSW candidate list; recall@20 against exact search was 1.0 at 10k clustered vectors
POOL_SIZE = 4
BATCH = 1000  # chunks per statement when re-tokenising: bounds the statistics triggers' arrays

# BM25 as SQLite's FTS5 computes it (k1 = 1.2, b = 0.75, idf floored at 1e-6), from statistics of
# the whole index that triggers keep (lexical_stats, lexical_terms); filters apply to the hits.
K1, B, IDF_FLOOR = 1.2, 0.75, 1e-6
TERMS_SQL = """SELECT s.chunks, s.tokens, t.lexeme, t.df FROM lexical_stats s LEFT JOIN lexical_terms t
    ON t.lexeme = ANY(tsvector_to_array(to_tsvector('simple', %(text)s))) AND t.df > 0"""
# A candidate's term frequencies come from one pass over its tsvector: mark the query's lexemes
# (setweight), keep only them (ts_filter), count their positions.
LEXICAL_SQL = """
SELECT c.id, sum(w.idf * u.tf * (%(k1)s + 1) / (u.tf + %(k1)s * (1 - %(b)s + %(b)s * c.n_tokens / %(avgdl)s)))
    AS score
FROM chunks c
    CROSS JOIN LATERAL (SELECT lexeme, array_length(positions, 1)::float8 AS tf
                        FROM unnest(ts_filter(setweight(c.tsv, 'A', %(terms)s::text[]), '{{a}}'))) u
    JOIN unnest(%(terms)s::text[], %(idf)s::float8[]) AS w (lexeme, idf) USING (lexeme)
WHERE c.tsv @@ %(query)s::tsquery AND {filters}
GROUP BY c.id ORDER BY score DESC, c.id LIMIT %(k)s
"""

DENSE_SQL = """
SELECT c.id, 1 - (c.embedding <=> %(v)s) AS score FROM chunks c
WHERE {filters} ORDER BY c.embedding <=> %(v)s LIMIT %(k)s
"""

HNSW_INDEX = "CREATE INDEX IF NOT EXISTS chunks_embedding ON chunks USING hnsw (embedding vector_cosine_ops)"

DOC_SELECT = """SELECT d.id, d.title, d.kind, d.filename, d.created_at, v.sha256, v.version, v.pages, v.meta,
    (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS n_chunks {extra}
    FROM documents d JOIN versions v ON v.document_id = d.id AND v.version = d.current_version"""

CHUNK_SELECT = """SELECT c.id, c.document_id, c.version, c.ord, c.page, c.section, c.start, c."end", c.text,
    d.title, d.kind FROM chunks c JOIN documents d ON d.id = c.document_id"""


def stamp(value: datetime) -> str:
    """The SQLite store's timestamp format (UTC, seconds)."""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def tsquery_lexeme(lexeme: str) -> str:
    """A lexeme quoted for tsquery input (taken as is, no further normalisation)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def chunk_filters(kind: str | None, document_id: str | None) -> tuple[str, dict]:
    clauses, args = ["true"], {}
    if kind:
        clauses.append("c.document_id = ANY(ARRAY(SELECT id FROM documents WHERE kind = %(kind)s))")
        args["kind"] = kind
    if document_id:
        clauses.append("c.document_id = %(document_id)s")
        args["document_id"] = document_id
    return " AND ".join(clauses), args


def claim_embedder(conn: psycopg.Connection, embedder_id: str, vectors: np.ndarray, index: bool = True) -> None:
    """Check the embedder matches the stored one; the first document fixes the embedder, the
    vector dimension and creates the HNSW index (an index needs a fixed dimension) unless a bulk
    load builds it afterwards (several times faster than inserting into it)."""
    def meta() -> dict:
        return dict(conn.cursor(row_factory=tuple_row).execute("SELECT key, value FROM store_meta").fetchall())

    known = meta()
    dim = vectors.shape[1] if vectors.ndim == 2 and len(vectors) else None
    if "embedder" not in known or ("dimension" not in known and dim):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
        known = meta()
    if known.get("embedder", embedder_id) != embedder_id:
        raise ValueError(f"index was built with {known['embedder']}, not {embedder_id}; re-index first")
    if "embedder" not in known:
        conn.execute("INSERT INTO store_meta VALUES ('embedder', %s)", (embedder_id,))
    if "dimension" not in known and dim:
        conn.execute(f"ALTER TABLE chunks ALTER COLUMN embedding TYPE vector({int(dim)})")
        if index:
            conn.execute(HNSW_INDEX)
        conn.execute("INSERT INTO store_meta VALUES ('dimension', %s)", (str(dim),))


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)
    # strict_order: with a filter, keep walking the graph until k rows pass it
    conn.execute("SET hnsw.iterative_scan = strict_order")
    conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
    conn.commit()


class PostgresStore:
    def __init__(self, database_url: str, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.files = OriginalFiles(self.data_dir / "files")
        with psycopg.connect(database_url) as conn:
            migrations.apply(conn)
        self.pool = ConnectionPool(database_url, min_size=1, max_size=POOL_SIZE, configure=_configure,
                                   kwargs={"row_factory": dict_row}, open=True)
        self.database = PostgresDatabase(self.pool, self.data_dir)  # accounts, audit log and plan: on the same pool
        self._embedder_id: str | None = None

    @property
    def embedder_id(self) -> str | None:
        # another worker may store the first document: read until known, then it never changes
        if self._embedder_id is None:
            with self.pool.connection() as conn:
                row = conn.execute("SELECT value FROM store_meta WHERE key = 'embedder'").fetchone()
            self._embedder_id = row["value"] if row else None
        return self._embedder_id

    # ---- documents -----------------------------------------------------------------------
    @staticmethod
    def _record(row: dict) -> DocumentRecord:
        return DocumentRecord(
            id=row["id"], title=row["title"], kind=row["kind"], filename=row["filename"], sha256=row["sha256"],
            version=row["version"], pages=row["pages"], chunks=row["n_chunks"], created_at=stamp(row["created_at"]),
            meta=row["meta"])

    def _one_document(self, where: str, arg) -> DocumentRecord | None:
        with self.pool.connection() as conn:
            row = conn.execute(DOC_SELECT.format(extra="") + where + " ORDER BY d.created_at, d.id LIMIT 1",
                               (arg,)).fetchone()
        return self._record(row) if row else None

    def find_by_sha(self, sha256: str) -> DocumentRecord | None:
        return self._one_document(" WHERE v.sha256 = %s", sha256)

    def list_documents(self) -> list[DocumentRecord]:
        with self.pool.connection() as conn:
            rows = conn.execute(DOC_SELECT.format(extra="") + ' ORDER BY d.title COLLATE "C"').fetchall()
        return [self._record(r) for r in rows]

    def get_document(self, document_id: str) -> StoredDocument | None:
        with self.pool.connection() as conn:
            row = conn.execute(DOC_SELECT.format(extra=", v.text, v.tables::text AS tables") + " WHERE d.id = %s",
                               (document_id,)).fetchone()
        if not row:
            return None
        return StoredDocument(**self._record(row).__dict__, text=row["text"], tables=tables_from_json(row["tables"]))

    def original_bytes(self, document_id: str) -> bytes | None:
        doc = self._one_document(" WHERE d.id = %s", document_id)
        return self.files.read(doc.sha256) if doc else None

    def add_version(self, *, filename: str, title: str, kind: str, sha256: str, original: bytes, text: str,
                    pages: int, tables: list[Table], meta: dict, chunks: list[NewChunk], vectors: np.ndarray,
                    embedder_id: str) -> DocumentRecord:
        vectors = np.asarray(vectors, dtype=np.float32)
        self.files.save(sha256, original)  # content-addressed: an orphan on failure is harmless
        with self.pool.connection() as conn, conn.transaction():
            # one writer per filename across workers; the stats row serialises the rest
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (filename,))
            claim_embedder(conn, embedder_id, vectors)
            existing = conn.execute("SELECT d.id, d.current_version, v.sha256 FROM documents d JOIN versions v"
                                    " ON v.document_id = d.id AND v.version = d.current_version"
                                    " WHERE d.filename = %s FOR UPDATE OF d", (filename,)).fetchone()
            if existing and existing["sha256"] == sha256:  # a writer that went first stored this very file
                return self._one_document(" WHERE d.id = %s", existing["id"])
            if existing:
                doc_id, version = existing["id"], existing["current_version"] + 1
                conn.execute("DELETE FROM chunks WHERE document_id = %s", (doc_id,))
                conn.execute("UPDATE documents SET title = %s, kind = %s, current_version = %s, updated_at = now()"
                             " WHERE id = %s", (title, kind, version, doc_id))
            else:
                doc_id, version = "d" + uuid.uuid4().hex[:12], 1
                conn.execute("INSERT INTO documents VALUES (%s, %s, %s, %s, %s, now(), now())",
                             (doc_id, filename, title, kind, version))
            conn.execute(
                "INSERT INTO versions (document_id, version, sha256, size, text, pages, meta, tables, embedder,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, now())",
                (doc_id, version, sha256, len(original), text, pages, Jsonb(meta),
                 tables_to_json(tables), embedder_id))
            rows = [(doc_id, version, c.ord, c.page, Jsonb(c.section), c.start, c.end, c.text,
                     c.lexical, len(c.lexical.split()), vector) for c, vector in zip(chunks, vectors, strict=True)]
            # one COPY statement: the statistics triggers run once per document, not per chunk
            with conn.cursor().copy('COPY chunks (document_id, version, ord, page, section, start, "end", text,'
                                    " lexical, n_tokens, embedding) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        self._embedder_id = embedder_id
        return self._one_document(" WHERE d.id = %s", doc_id)

    def delete_document(self, document_id: str) -> bool:
        with self.pool.connection() as conn:  # versions and chunks go by ON DELETE CASCADE
            return conn.execute("DELETE FROM documents WHERE id = %s", (document_id,)).rowcount > 0

    def ensure_lexical(self, version: str, tokenize) -> int:
        """Re-tokenise the full-text index when it was built with another normalisation version;
        `tokenize(chunk)` gives a chunk's lexical string. Returns how many chunks were redone."""
        def current(conn) -> str | None:
            row = conn.execute("SELECT value FROM store_meta WHERE key = 'lexical_version'").fetchone()
            return row["value"] if row else None

        with self.pool.connection() as conn, conn.transaction():
            if current(conn) == version:
                return 0
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))  # workers start together
            if current(conn) == version:
                return 0
            chunks = [self._chunk(r) for r in conn.execute(CHUNK_SELECT).fetchall()]
            for i in range(0, len(chunks), BATCH):
                part = chunks[i : i + BATCH]
                lexical = [tokenize(c) for c in part]
                conn.execute("UPDATE chunks SET lexical = u.lexical, n_tokens = u.n"
                             " FROM unnest(%s::bigint[], %s::text[], %s::integer[]) AS u (id, lexical, n)"
                             " WHERE chunks.id = u.id",
                             ([c.id for c in part], lexical, [len(x.split()) for x in lexical]))
            conn.execute("INSERT INTO store_meta VALUES ('lexical_version', %s)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (version,))
        return len(chunks)

    # ---- chunks and search ---------------------------------------------------------------
    @staticmethod
    def _chunk(row: dict) -> ChunkRecord:
        return ChunkRecord(id=row["id"], document_id=row["document_id"], version=row["version"], ord=row["ord"],
                           page=row["page"], section=row["section"], start=row["start"], end=row["end"],
                           text=row["text"], title=row["title"], kind=row["kind"])

    def get_chunks(self, ids: list[int]) -> list[ChunkRecord]:
        if not ids:
            return []
        with self.pool.connection() as conn:
            rows = conn.execute(CHUNK_SELECT + " WHERE c.id = ANY(%s)", ([int(i) for i in ids],)).fetchall()
        by_id = {r["id"]: self._chunk(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def document_chunks(self, document_id: str) -> list[ChunkRecord]:
        with self.pool.connection() as conn:
            rows = conn.execute(CHUNK_SELECT + " WHERE c.document_id = %s ORDER BY c.ord", (document_id,)).fetchall()
        return [self._chunk(r) for r in rows]

    def lexical_search(self, tokens, k, kind=None, document_id=None) -> list[tuple[int, float]]:
        terms = sorted({t for t in tokens if t})
        if not terms or k <= 0:
            return []
        filters, args = chunk_filters(kind, document_id)
        with self.pool.connection() as conn:
            stats = conn.execute(TERMS_SQL, {"text": " ".join(terms)}).fetchall()
            n, avgdl = stats[0]["chunks"], stats[0]["tokens"] / max(stats[0]["chunks"], 1)
            idf = {r["lexeme"]: max(math.log((n - r["df"] + 0.5) / (r["df"] + 0.5)), IDF_FLOOR)
                   for r in stats if r["lexeme"]}

            def bm25(candidates: list[str]) -> list[dict]:
                return conn.execute(LEXICAL_SQL.format(filters=filters), {
                    "query": " | ".join(map(tsquery_lexeme, candidates)), "terms": list(idf),
                    "idf": list(idf.values()), "k1": K1, "b": B, "avgdl": avgdl, "k": k, **args}).fetchall()

            # tokens in more than half the chunks (idf at the floor) add ~1e-6 to a score: they
            # only bring candidates when the other tokens find fewer than k chunks
            telling = [t for t, w in idf.items() if w > IDF_FLOOR]
            rows = bm25(telling) if telling else []
            if len(rows) < k and len(telling) < len(idf):
                rows = bm25(list(idf))
        return [(r["id"], float(r["score"])) for r in rows]

    def dense_search(self, vector, k, kind=None, document_id=None) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        filters, args = chunk_filters(kind, document_id)
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self.pool.connection() as conn:
            rows = conn.execute(DENSE_SQL.format(filters=filters), {"v": query, "k": k, **args}).fetchall()
        return [(r["id"], float(r["score"])) for r in rows]

    def dense_scores(self, vector, ids: list[int]) -> dict[int, float]:
        """Cosine similarity of the query to the given chunks (for fusing candidates found by one side)."""
        if not ids:
            return {}
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT id, 1 - (embedding <=> %s) AS score FROM chunks WHERE id = ANY(%s)",
                                (query, [int(i) for i in ids])).fetchall()
        return {r["id"]: float(r["score"]) for r in rows}

    # ---- artifacts -----------------------------------------------------------------------
    def save_artifact(self, kind: str, payload: dict) -> str:
        artifact_id = "a" + uuid.uuid4().hex[:16]
        payload = {"id": artifact_id, "kind": kind, "created_at": now(), **payload}
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO artifacts VALUES (%s, %s, %s, %s)",
                         (artifact_id, kind, payload["created_at"], Jsonb(payload)))
        return artifact_id

    def get_artifact(self, artifact_id: str) -> dict | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT payload FROM artifacts WHERE id = %s", (artifact_id,)).fetchone()
        return row["payload"] if row else None

    def update_artifact(self, artifact_id: str, payload: dict) -> None:
        with self.pool.connection() as conn:
            conn.execute("UPDATE artifacts SET payload = %s WHERE id = %s",
                         (Jsonb(payload), artifact_id))

    def close(self) -> None:
        self.pool.close()
