"""Move an embedded data folder (SQLite) into PostgreSQL: documents with every version, the
current chunks with their vectors and index tokens, and the artifacts, keeping every id so
citations in stored artifacts still resolve. One transaction: a failed copy leaves nothing.

Original files are not copied: they stay content-addressed in `data_dir/files`, which the
PostgreSQL store reads from the same place.
"""
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from assistant.store import migrations
from assistant.store.postgres import HNSW_INDEX, claim_embedder

Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in all)
BATCH = 2000

TABLES = {
    "documents": ("SELECT id, filename, title, kind, current_version, created_at, updated_at FROM documents",
                  ["id", "filename", "title", "kind", "current_version", "created_at", "updated_at"]),
    "versions": ("SELECT id, document_id, version, sha256, size, text, pages, meta, tables, embedder, created_at"
                 " FROM versions", ["id", "document_id", "version", "sha256", "size", "text", "pages", "meta",
                                    "tables", "embedder", "created_at"]),
    "chunks": ('SELECT c.id, c.document_id, c.version, c.ord, c.page, c.section, c.start, c."end", c.text, f.lex,'
               " c.vector FROM chunks c JOIN chunks_fts f ON f.rowid = c.id ORDER BY c.id",
               ["id", "document_id", "version", "ord", "page", "section", "start", "end", "text", "lexical",
                "n_tokens", "embedding"]),
    "artifacts": ("SELECT id, kind, created_at, payload FROM artifacts",
                  ["id", "kind", "created_at", "payload"]),
}
TIMESTAMPS = {"created_at", "updated_at"}
IDENTITY_TABLES = ("versions", "chunks")


def _convert(table: str, columns: list[str], row: tuple) -> tuple:
    values = dict(zip([c for c in columns if c != "n_tokens"], row, strict=True))
    for key in TIMESTAMPS & values.keys():
        values[key] = datetime.fromisoformat(values[key])
    if table == "chunks":
        values["n_tokens"] = len(values["lexical"].split())
        values["embedding"] = np.frombuffer(values["embedding"], dtype=np.float32)
    return tuple(values[c] for c in columns)


def _batches(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_sqlite_to_postgres(data_dir: Path, database_url: str, progress: Progress | None = None) -> dict[str, int]:
    """Copy the SQLite store in `data_dir` into the (empty) database at `database_url`;
    returns the number of rows copied per table."""
    db_path = Path(data_dir) / "kvsp.db"
    if not db_path.exists():
        raise FileNotFoundError(f"no SQLite store at {db_path}")
    source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        with psycopg.connect(database_url) as conn:
            migrations.apply(conn)
            register_vector(conn)
            with conn.transaction():
                return _copy(source, conn, progress)
    finally:
        source.close()


def _copy(source: sqlite3.Connection, conn: psycopg.Connection, progress: Progress | None) -> dict[str, int]:
    taken = conn.execute("SELECT exists(SELECT 1 FROM documents) OR exists(SELECT 1 FROM artifacts)").fetchone()[0]
    if taken:
        raise ValueError("the PostgreSQL database already holds documents or artifacts; migrate into an empty one")
    embedder = source.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
    first = source.execute("SELECT vector FROM chunks LIMIT 1").fetchone()
    if embedder:
        sample = np.frombuffer(first[0], dtype=np.float32).reshape(1, -1) if first else np.zeros((0, 0), np.float32)
        claim_embedder(conn, embedder[0], sample, index=False)
    version = source.execute("SELECT value FROM meta WHERE key = 'lexical_version'").fetchone()
    if version:  # the tokens come along, so the index needs no re-tokenising
        conn.execute("INSERT INTO store_meta VALUES ('lexical_version', %s)", version)
    counts = {}
    for table, (select, columns) in TABLES.items():
        total = source.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]
        done = 0
        quoted = ", ".join(f'"{c}"' for c in columns)
        for batch in _batches(source.execute(select)):  # a COPY per batch bounds the statistics triggers
            with conn.cursor().copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(_convert(table, columns, row))
            done += len(batch)
            if progress:
                progress(table, done, total)
        counts[table] = done
    if embedder and first:
        conn.execute(HNSW_INDEX)
    for table in IDENTITY_TABLES:  # new rows continue after the copied ids
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false)"
                     f" FROM {table}")
    return counts
