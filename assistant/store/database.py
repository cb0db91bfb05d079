"""The data folder's SQLite file, the one way in for the store, accounts, the audit log and the plan
(with KVSP_DATABASE_URL, pg_database.py offers the same interface over PostgreSQL).

- Migrated once, when a process first opens it (`open_database`), never on a request path.
- A connection per thread: a sqlite3 connection used by two threads at once mixes their
  statements into one transaction (an artifact saved during an upload joined the upload's
  transaction and went with its rollback).
- One writer per data folder: an in-process lock for threads and an flock on
  `data/.writer.lock` for processes (`kvsp ingest` while `kvsp serve` runs), held around every
  write to the database and to the files that must match it (the FAISS index).
"""
import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.store import migrations

if TYPE_CHECKING:  # psycopg is the optional `postgres` extra
    from assistant.store.pg_database import PostgresDatabase

DB_FILE = "kvsp.db"
LOCK_FILE = ".writer.lock"
BUSY_TIMEOUT_S = 30  # readers never wait in WAL mode; this bounds a write that races a checkpoint


class Database:
    engine = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.folder = self.path.parent  # the data folder: files that must not live in the database (audit.key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread_lock = threading.RLock()
        self._depth = 0  # nesting of writer() in the thread holding _thread_lock
        self._lock_file = None
        self._conns: dict[int, sqlite3.Connection] = {}
        self._conns_lock = threading.Lock()
        with self.writer():
            migrations.apply_sqlite(self.connection())

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: a write transaction is opened by `transaction`)."""
        key = threading.get_ident()
        conn = self._conns.get(key)
        if conn is None:
            # check_same_thread=False only so that close() may close every thread's connection
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            with self._conns_lock:
                self._conns[key] = conn
        return conn

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the data folder's write lock (re-entrant within a thread)."""
        with self._thread_lock:
            if self._depth == 0:
                self._lock_file = open(self.path.parent / LOCK_FILE, "a+b")
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                    self._lock_file.close()
                    self._lock_file = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on any error) under the writer lock; a transaction
        opened inside another one on the same thread joins it, so an audit entry commits or rolls
        back with the change it records."""
        with self.writer():
            conn = self.connection()
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection; the next call of `connection` opens a new one."""
        with self._conns_lock:
            conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            conn.close()


_open: dict[Path, Database] = {}
_open_lock = threading.Lock()


def open_database(path: Path | str) -> Database:
    """The process's one Database for this file (so its threads share one writer lock)."""
    path = Path(path).resolve()
    with _open_lock:
        if path not in _open:
            _open[path] = Database(path)
        return _open[path]


def database(db: "Database | PostgresDatabase | Path | str") -> "Database | PostgresDatabase":
    """A database from itself or from the path of its SQLite file."""
    return open_database(db) if isinstance(db, (Path, str)) else db
