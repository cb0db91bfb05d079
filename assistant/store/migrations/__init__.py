"""Schema migrations for the PostgreSQL store: numbered SQL files applied in order, once.

Each applied file is recorded in `schema_migrations`; an advisory lock lets several workers
start at the same time without applying a migration twice.
"""
from pathlib import Path

import psycopg

HERE = Path(__file__).parent
LOCK_KEY = 7_415_920_001  # any constant shared by every worker of this application


def pending(applied: set[str]) -> list[Path]:
    return [p for p in sorted(HERE.glob("[0-9]*.sql")) if p.stem not in applied]


def apply(conn: psycopg.Connection) -> list[str]:
    """Apply the migrations this database lacks, all in one transaction; returns their names."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        names = []
        for path in pending(applied):
            conn.execute(path.read_text(encoding="utf-8"))
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.stem,))
            names.append(path.stem)
    return names
