"""Schema migrations for both engines: numbered SQL files per engine (sqlite/, postgres/), applied
in order, once, when a process opens its database; each applied file is recorded in
`schema_migrations`. No request ever runs DDL.

PostgreSQL: an advisory lock lets several workers start at the same time. SQLite: the caller
holds the data folder's writer lock (assistant/store/database.py), and each file runs in a
transaction of its own with its record, so a failed migration leaves the file as it was.
"""
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # psycopg is the optional `postgres` extra; the SQLite side must not need it
    import psycopg

HERE = Path(__file__).parent
SQLITE = HERE / "sqlite"
POSTGRES = HERE / "postgres"
LOCK_KEY = 7_415_920_001  # any constant shared by every worker of this application


def pending(folder: Path, applied: set[str]) -> list[Path]:
    return [p for p in sorted(folder.glob("[0-9]*.sql")) if p.stem not in applied]


def apply(conn: "psycopg.Connection") -> list[str]:
    """Apply the PostgreSQL migrations this database lacks, all in one transaction; returns their names."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        names = []
        for path in pending(POSTGRES, applied):
            conn.execute(path.read_text(encoding="utf-8"))
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.stem,))
            names.append(path.stem)
    return names


def apply_sqlite(conn: sqlite3.Connection) -> list[str]:
    """Apply the SQLite migrations this file lacks (autocommit connection); returns their names."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    names = []
    for path in pending(SQLITE, applied):
        # executescript commits first and runs statements as written: the BEGIN makes file + record one step
        script = (f"BEGIN IMMEDIATE;\n{path.read_text(encoding='utf-8')}\n"
                  f"INSERT INTO schema_migrations VALUES ('{path.stem}', datetime('now'));\nCOMMIT;")
        try:
            conn.executescript(script)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        names.append(path.stem)
    return names
