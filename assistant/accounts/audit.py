"""The append-only audit log: who did what to which object, when, each entry chained to the last.

Every entry stores `hash = sha256(prev_hash + canonical JSON of the entry)`, where the entry is
its id, ts, actor, action, object_type, object_id and details. Triggers refuse UPDATE and DELETE
so that no code path changes history by accident; the chain is what reveals deliberate edits:
`verify` recomputes it and reports edited, removed and reordered entries. The ids come from
AUTOINCREMENT, so a removed last entry still leaves its id in `sqlite_sequence`.
"""
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

GENESIS = "0" * 64
FIELDS = ("id", "ts", "actor", "action", "object_type", "object_id", "details")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, "
    "actor TEXT NOT NULL, action TEXT NOT NULL, object_type TEXT, object_id TEXT, details TEXT NOT NULL, "
    "prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_log_object ON audit_log(object_id)",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)

Db = Path | str | sqlite3.Connection


@dataclass(frozen=True)
class Problem:
    entry_id: int
    kind: str  # "edited" | "removed" | "broken_link"
    message: str

    def public(self) -> dict:
        return asdict(self)


def canonical(value) -> str:
    # default=str turns dates and ids into text once, at record time; the stored form is what is hashed.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, entry: dict) -> str:
    return hashlib.sha256((prev_hash + canonical({k: entry[k] for k in FIELDS})).encode()).hexdigest()


@contextmanager
def _connection(db: Db) -> Iterator[sqlite3.Connection]:
    """The caller's connection as it is, or a fresh one on the file that is closed afterwards."""
    if isinstance(db, sqlite3.Connection):
        conn = db
        for statement in _SCHEMA:
            conn.execute(statement)
        yield conn
        return
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.commit()
        yield conn


def record(db: Db, actor: str, action: str, object_type: str | None = None, object_id=None,
           details: dict | None = None) -> dict:
    """Append one entry and return it. Inside the caller's open transaction the entry commits
    (or rolls back) with the caller's change; otherwise it commits at once."""
    with _connection(db) as conn:
        own_transaction = not conn.in_transaction
        if own_transaction:
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time, so two entries never share a parent
        try:
            last = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
            seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
            entry = {"id": (seq[0] if seq else 0) + 1,
                     "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                     "actor": actor, "action": action, "object_type": object_type,
                     "object_id": None if object_id is None else str(object_id),
                     "details": json.loads(canonical(details or {}))}
            entry["prev_hash"] = last[0] if last else GENESIS
            entry["hash"] = entry_hash(entry["prev_hash"], entry)
            conn.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (*(entry[k] for k in FIELDS[:-1]), canonical(entry["details"]),
                          entry["prev_hash"], entry["hash"]))
        except BaseException:
            if own_transaction:
                conn.rollback()
            raise
        if own_transaction:
            conn.commit()
    return entry


def _entry(row: sqlite3.Row | tuple) -> dict:
    entry = dict(zip((*FIELDS, "prev_hash", "hash"), row))
    entry["details"] = json.loads(entry["details"])
    return entry


def _bound(value: str, *, upper: bool) -> str:
    """An ISO date or datetime as a timestamp comparable with `ts`; as an upper bound a date alone
    means the end of that day."""
    if len(value) == 10:
        day = date.fromisoformat(value) + timedelta(days=1 if upper else 0)
        moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    else:
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def entries(db: Db, *, actor: str | None = None, action: str | None = None, object_type: str | None = None,
            object_id: str | None = None, since: str | None = None, until: str | None = None,
            limit: int = 200, offset: int = 0) -> list[dict]:
    """Entries matching every given filter, newest first. `object_id` also matches entries whose
    details name it as `artifact_id` (an approval of one row of a stored proposal, say);
    `since` and `until` are ISO dates or datetimes, `until` exclusive for a datetime, inclusive for a date."""
    where, args = [], []
    for column, value in (("actor", actor), ("action", action), ("object_type", object_type)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if object_id:
        where.append("(object_id = ? OR json_extract(details, '$.artifact_id') = ?)")
        args += [object_id, object_id]
    if since:
        where.append("ts >= ?")
        args.append(_bound(since, upper=False))
    if until:
        where.append("ts < ?")
        args.append(_bound(until, upper=True))
    sql = ("SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY id DESC LIMIT ? OFFSET ?")
    with _connection(db) as conn:
        return [_entry(row) for row in conn.execute(sql, (*args, limit, offset)).fetchall()]


def head(db: Db) -> dict | None:
    """The newest entry: noting its hash outside the machine anchors the whole chain."""
    found = entries(db, limit=1)
    return found[0] if found else None


def verify(db: Db) -> list[Problem]:
    """Recompute the chain; an empty list means every entry is as it was written."""
    problems = []
    with _connection(db) as conn:
        rows = conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    expected_prev, expected_id = GENESIS, 1
    for row in rows:
        entry = _entry(row)
        problems += [Problem(missing, "removed", f"entry {missing} is missing")
                     for missing in range(expected_id, entry["id"])]
        if entry_hash(entry["prev_hash"], entry) != entry["hash"]:
            problems.append(Problem(entry["id"], "edited", f"entry {entry['id']} does not match its hash"))
        elif entry["prev_hash"] != expected_prev and entry["id"] == expected_id:
            problems.append(Problem(entry["id"], "broken_link",
                                    f"entry {entry['id']} does not follow entry {entry['id'] - 1}"))
        expected_prev, expected_id = entry["hash"], entry["id"] + 1
    problems += [Problem(missing, "removed", f"entry {missing} is missing")
                 for missing in range(expected_id, (seq[0] if seq else 0) + 1)]
    return problems
