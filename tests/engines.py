"""Both engines for the tests of accounts, the audit log and the plan: the data folder's SQLite
file, or the embedded PostgreSQL of tests/pg_fixture.py (KVSP_DATABASE_URL set)."""
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from assistant.core.services import Services
from assistant.core.settings import Settings
from assistant.search.retrieve import Retriever
from assistant.store import open_store

ENGINES = ("sqlite", "postgres")
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
REFUSED = (sqlite3.DatabaseError, psycopg.Error)  # what a refused statement raises on either engine


def settings_for(engine: str, data_dir: Path, request) -> Settings:
    url = request.getfixturevalue("pg_url") if engine == "postgres" else None
    return Settings(data_dir=data_dir, corpus_dir=CORPUS, database_url=url)


@contextmanager
def services_for(settings: Settings, shared: Services) -> Iterator[Services]:
    """Services over `settings` sharing the session's loaded embedder."""
    store = open_store(settings)
    try:
        yield Services(settings=settings, store=store, embedder=shared.embedder,
                       retriever=Retriever(store, shared.embedder))
    finally:
        store.close()


def raw(db):
    """A plain connection to the database behind `db`, bypassing the application (autocommit)."""
    if db.engine == "sqlite":
        return sqlite3.connect(db.path, isolation_level=None)
    return psycopg.connect(db.pool.conninfo, autocommit=True)


def tamper(db, *statements: str) -> None:
    """What someone with the database can do: drop the guards, then change history."""
    drops = (["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"] if db.engine == "sqlite"
             else ["DROP TRIGGER audit_log_no_change ON audit_log"])
    conn = raw(db)
    try:
        for statement in (*drops, *statements):
            conn.execute(statement)
    finally:
        conn.close()


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment under which the `kvsp` command opens the same database."""
    env = {"KVSP_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["KVSP_DATABASE_URL"] = settings.database_url
    return env
