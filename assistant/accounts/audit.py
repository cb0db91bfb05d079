"""The append-only audit log: who did what to which object, when, each entry chained to the last.

Every entry stores `hash = HMAC-SHA256(key, prev_hash + canonical JSON of the entry)`, where the
entry is its id, ts, actor, action, object_type, object_id and details. The key lives in the data
folder beside the database, not in it (audit.key, mode 0600, made at first use): a copy of the
database alone cannot recompute the chain after an edit. Entries written before the key existed
keep their plain SHA-256 (the key file records the first entry it signs). Triggers refuse UPDATE
and DELETE so that no code path changes history by accident; the chain is what reveals deliberate
edits: `verify` recomputes it and reports edited, removed and reordered entries. The ids come from
AUTOINCREMENT, so a removed last entry still leaves its id in `sqlite_sequence`; a head hash noted
elsewhere (the audit page shows it, `kvsp audit verify --head` checks it) also reveals a cut of
the newest entries. The table and its triggers are made by the store's migrations
(migrations/{sqlite,postgres}/0002_accounts_audit_plan.sql; in PostgreSQL a trigger keeps
`audit_sequence` as SQLite keeps `sqlite_sequence`). With KVSP_DATABASE_URL the log is in PostgreSQL,
one chain for every host, and the key in KVSP_DATA_DIR, which the hosts share.
"""
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from typing import TYPE_CHECKING

from assistant.store.database import Database, database

if TYPE_CHECKING:  # psycopg is the optional `postgres` extra
    from assistant.store.pg_database import PostgresDatabase

GENESIS = "0" * 64
FIELDS = ("id", "ts", "actor", "action", "object_type", "object_id", "details")
KEY_FILE = "audit.key"
_keys: dict[Path, "ChainKey"] = {}
_keys_lock = threading.Lock()
# the two things the engines spell differently; every other statement is shared
SEQUENCE = {"sqlite": "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
            "postgres": "SELECT seq FROM audit_sequence WHERE name = 'audit_log'"}
ARTIFACT_ID = {"sqlite": "json_extract(details, '$.artifact_id')", "postgres": "(details::jsonb ->> 'artifact_id')"}

Db = "Database | PostgresDatabase | Path | str"


@dataclass(frozen=True)
class Problem:
    entry_id: int
    kind: str  # "edited" | "removed" | "broken_link" | "cut"
    message: str

    def public(self) -> dict:
        return asdict(self)


def canonical(value) -> str:
    # default=str turns dates and ids into text once, at record time; the stored form is what is hashed.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ChainKey:
    secret: bytes
    since: int  # the first entry id signed with `secret`; older ones carry a plain SHA-256


def chain_key(db: Db) -> ChainKey:
    """The data folder's chain key, made on first use (0600, created exclusively so two processes
    starting together agree on one)."""
    database_ = database(db)
    path = database_.folder / KEY_FILE
    with _keys_lock:
        if path in _keys and path.exists():
            return _keys[path]
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raw = json.loads(path.read_text(encoding="utf-8"))
        else:
            seq = database_.connection().execute(SEQUENCE[database_.engine]).fetchone()
            raw = {"key": secrets.token_hex(32), "since": (seq[0] if seq else 0) + 1}
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(raw, f)
        _keys[path] = ChainKey(bytes.fromhex(raw["key"]), int(raw["since"]))
        return _keys[path]


def entry_hash(prev_hash: str, entry: dict, key: ChainKey | None = None) -> str:
    message = (prev_hash + canonical({k: entry[k] for k in FIELDS})).encode()
    if key is not None and entry["id"] >= key.since:
        return hmac.new(key.secret, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def record(db: Db, actor: str, action: str, object_type: str | None = None, object_id=None,
           details: dict | None = None) -> dict:
    """Append one entry and return it. Inside the caller's open transaction (same thread, same
    data folder) the entry commits or rolls back with the caller's change; otherwise at once."""
    db = database(db)
    key = chain_key(db)
    with db.transaction() as conn:  # one writer at a time, so two entries never share a parent
        last = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        seq = conn.execute(SEQUENCE[db.engine]).fetchone()
        entry = {"id": (seq[0] if seq else 0) + 1,
                 "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                 "actor": actor, "action": action, "object_type": object_type,
                 "object_id": None if object_id is None else str(object_id),
                 "details": json.loads(canonical(details or {}))}
        entry["prev_hash"] = last[0] if last else GENESIS
        entry["hash"] = entry_hash(entry["prev_hash"], entry, key)
        conn.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (*(entry[k] for k in FIELDS[:-1]), canonical(entry["details"]),
                      entry["prev_hash"], entry["hash"]))
    return entry


def _entry(row: tuple) -> dict:
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
    db = database(db)
    where, args = [], []
    for column, value in (("actor", actor), ("action", action), ("object_type", object_type)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if object_id:
        where.append(f"(object_id = ? OR {ARTIFACT_ID[db.engine]} = ?)")
        args += [object_id, object_id]
    if since:
        where.append("ts >= ?")
        args.append(_bound(since, upper=False))
    if until:
        where.append("ts < ?")
        args.append(_bound(until, upper=True))
    sql = ("SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY id DESC LIMIT ? OFFSET ?")
    return [_entry(row) for row in db.connection().execute(sql, (*args, limit, offset)).fetchall()]


def head(db: Db) -> dict | None:
    """The newest entry: noting its hash outside the machine anchors the whole chain."""
    found = entries(db, limit=1)
    return found[0] if found else None


def anchor_text(db: Db) -> str:
    """The head as an export prints it ("" for an empty log): noted on paper, it anchors the chain."""
    newest = head(db)
    return f"koka e regjistrit të auditimit: nr. {newest['id']}, {newest['hash']}" if newest else ""


def verify(db: Db, anchor: str | None = None) -> list[Problem]:
    """Recompute the chain with the data folder's key; an empty list means every entry is as it was
    written. `anchor`, a head hash noted earlier (from the audit page or an export), must still be
    in the chain: otherwise the entries from it on were cut."""
    problems = []
    db = database(db)
    key = chain_key(db)
    conn = db.connection()
    # the sequence first: an entry written between the two reads is then only an extra row, not a gap
    seq = conn.execute(SEQUENCE[db.engine]).fetchone()
    rows = conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
    expected_prev, expected_id = GENESIS, 1
    for row in rows:
        entry = _entry(row)
        problems += [Problem(missing, "removed", f"entry {missing} is missing")
                     for missing in range(expected_id, entry["id"])]
        if entry_hash(entry["prev_hash"], entry, key) != entry["hash"]:
            problems.append(Problem(entry["id"], "edited", f"entry {entry['id']} does not match its hash"))
        elif entry["prev_hash"] != expected_prev and entry["id"] == expected_id:
            problems.append(Problem(entry["id"], "broken_link",
                                    f"entry {entry['id']} does not follow entry {entry['id'] - 1}"))
        expected_prev, expected_id = entry["hash"], entry["id"] + 1
    problems += [Problem(missing, "removed", f"entry {missing} is missing")
                 for missing in range(expected_id, (seq[0] if seq else 0) + 1)]
    if anchor and anchor != GENESIS and not any(row["hash"] == anchor for row in rows):
        problems.append(Problem(expected_id, "cut", f"the noted head {anchor[:16]}… is no longer in the log: "
                                                    f"entries after {expected_id - 1} were removed or rewritten"))
    return problems
