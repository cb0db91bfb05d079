"""Move an embedded data folder (SQLite) into PostgreSQL: documents with every version, the
current chunks with their vectors and index tokens, the artifacts, the accounts (users, API
tokens, sessions: only hashes, copied as they are), the audit log and the plan, keeping every id
so citations in stored artifacts still resolve and the audit chain still verifies. One
transaction: a failed copy leaves nothing.

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
from assistant.store.database import DB_FILE, open_database
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
# the same text columns on both engines (0002_accounts_audit_plan.sql): copied as stored, since the
# audit chain hashes the stored text
SHARED_COLUMNS = {
    "users": ["name", "role", "password_hash", "created_at"],
    "api_tokens": ["token_hash", "user_name", "created_at"],
    "sessions": ["session_hash", "user_name", "expires_at"],
    "audit_log": ["id", "ts", "actor", "action", "object_type", "object_id", "details", "prev_hash", "hash"],
    "plan_rows": ["id", "state", "status", "position", "origin", "artifact_id", "dedupe_key", "data",
                  "created_at", "updated_at"],
    "plan_events": ["id", "row_id", "action", "actor", "at", "changes", "reason", "source"],
    "plan_versions": ["version", "created_at", "actor", "cause", "row_ids", "rows"],
}
TABLES |= {table: ("SELECT " + ", ".join(f'"{c}"' for c in columns) + f" FROM {table} ORDER BY 1", columns)
           for table, columns in SHARED_COLUMNS.items()}
TIMESTAMP_TABLES = {"documents", "versions", "artifacts"}  # timestamptz in PostgreSQL, ISO text in SQLite
TIMESTAMPS = {"created_at", "updated_at"}
IDENTITY_TABLES = ("versions", "chunks", "audit_log", "plan_events")
FILLED = ("documents", "artifacts", "users", "audit_log", "plan_rows")  # any row here: not an empty database


def _convert(table: str, columns: list[str], row: tuple) -> tuple:
    values = dict(zip([c for c in columns if c != "n_tokens"], row, strict=True))
    for key in TIMESTAMPS & values.keys() if table in TIMESTAMP_TABLES else ():
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
    db_path = Path(data_dir) / DB_FILE
    if not db_path.exists():
        raise FileNotFoundError(f"no SQLite store at {db_path}")
    open_database(db_path)  # a folder made by older code gets its missing tables first
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
    filled = " OR ".join(f"exists(SELECT 1 FROM {table})" for table in FILLED)
    taken = conn.execute(f"SELECT {filled}").fetchone()[0]
    if taken:
        raise ValueError("the PostgreSQL database already holds documents, artifacts, accounts, audit entries "
                         "or a plan; migrate into an empty one")
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
    # a removed last audit entry stays visible: its id was in sqlite_sequence (the copy's trigger
    # has set audit_sequence to the highest copied id)
    seq = source.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    if seq:
        conn.execute("INSERT INTO audit_sequence VALUES ('audit_log', %s) ON CONFLICT (name)"
                     " DO UPDATE SET seq = greatest(audit_sequence.seq, EXCLUDED.seq)", seq)
    for table in IDENTITY_TABLES:  # new rows continue after the copied ids
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false)"
                     f" FROM {table}")
    return counts
