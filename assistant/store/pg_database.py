"""Accounts, the audit log and the plan in PostgreSQL, behind the SQLite `Database`'s interface.

The modules that use these tables speak one dialect, sqlite3's: `?` placeholders, rows read by
position or by name. `PostgresDatabase` hands them a connection that translates, so each query is
written once. Writes (`transaction`) take one advisory lock, the counterpart of SQLite's single
writer: every host of a council appends to one audit chain and numbers plan versions from one
sequence. A read outside a transaction borrows a pooled connection for that statement only.
"""
import threading
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import psycopg
from psycopg_pool import ConnectionPool, NullConnectionPool

from assistant.store import migrations

WRITER_LOCK = 7_415_920_003  # the key every host's writers share


class Row(tuple):
    """A result row read by position or by column name, as sqlite3.Row is (dict(row) works too)."""
    names: dict[str, int] = {}

    def __getitem__(self, key):
        return super().__getitem__(self.names[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self.names)


def _rows(cursor: psycopg.Cursor):
    kind = type("Row", (Row,), {"names": {c.name: i for i, c in enumerate(cursor.description or ())}})
    return kind


class Rows(list):
    """A fetched result with the two sqlite3 cursor methods its users call."""

    def fetchone(self):
        return self[0] if self else None

    def fetchall(self) -> list:
        return list(self)


def to_psycopg(sql: str) -> str:
    """sqlite3's `?` placeholders as psycopg's `%s` (a literal `%` doubled); no query of ours has
    a `?` inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class Connection:
    """sqlite3's `execute` over a psycopg connection: the transaction's, or one borrowed per statement."""

    def __init__(self, borrow):
        self._borrow = borrow

    def execute(self, sql: str, args=()) -> Rows:
        with self._borrow() as conn:
            cursor = conn.cursor(row_factory=_rows)
            if args:
                cursor.execute(to_psycopg(sql), tuple(args))
            else:
                cursor.execute(sql)
            return Rows(cursor.fetchall() if cursor.description else [])


class PostgresDatabase:
    engine = "postgres"

    def __init__(self, pool: ConnectionPool, folder: Path):  # the store's pool, or one of its own (open)
        self.pool = pool
        self.folder = Path(folder)  # KVSP_DATA_DIR, shared by the hosts: files kept out of the database (audit.key)
        self._local = threading.local()  # the open transaction's connection, per thread

    @classmethod
    def open(cls, database_url: str, folder: Path) -> "PostgresDatabase":
        """One for a short-lived process with no store (a CLI command), migrated first: it keeps
        no idle connection, so nothing is left open on the server when the command is done."""
        with psycopg.connect(database_url) as conn:
            migrations.apply(conn)
        return cls(NullConnectionPool(database_url, max_size=1, open=True), folder)

    def connection(self) -> Connection:
        current = getattr(self._local, "conn", None)
        return current if current is not None else Connection(self.pool.connection)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction under the writer lock (ROLLBACK on any error); a transaction opened
        inside another on the same thread joins it, so an audit entry goes with its change."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK,))
            self._local.conn = Connection(lambda: nullcontext(conn))
            try:
                yield self._local.conn
            finally:
                self._local.conn = None

    def close(self) -> None:
        self.pool.close()
