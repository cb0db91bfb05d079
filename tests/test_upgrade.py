"""A data folder made by the code before migrations (commit 9c01fd2) opens with today's code with
nothing lost: the store, accounts, the audit chain and the plan, and all of them go on working.

The DDL below is that code's, copied as it was (assistant/store/sqlite.py SCHEMA,
accounts/auth.py and accounts/audit.py _SCHEMA, plan/store.py SCHEMA): each module ran it on
every connection. The rows are written as that code wrote them.
"""
import hashlib
import json
import sqlite3

import numpy as np
from argon2 import PasswordHasher

from assistant.accounts import audit
from assistant.accounts.auth import AuthDb
from assistant.plan.store import PlanStore
from assistant.search.albanian import lexical_tokens
from assistant.store.sqlite import SqliteStore

STORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL,
    current_version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, text TEXT NOT NULL,
    pages INTEGER NOT NULL, meta TEXT NOT NULL, tables TEXT NOT NULL, embedder TEXT NOT NULL,
    created_at TEXT NOT NULL, UNIQUE (document_id, version));
CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    version INTEGER NOT NULL, ord INTEGER NOT NULL, page INTEGER NOT NULL, section TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(lex, tokenize = 'unicode61');
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL);
"""
AUTH_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "password_hash TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS api_tokens (token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, "
    "created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions (session_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, "
    "expires_at TEXT NOT NULL)",
)
AUDIT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, "
    "actor TEXT NOT NULL, action TEXT NOT NULL, object_type TEXT, object_id TEXT, details TEXT NOT NULL, "
    "prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_log_object ON audit_log(object_id)",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)
PLAN_SCHEMA = """
CREATE TABLE IF NOT EXISTS plan_rows (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, status TEXT NOT NULL, position INTEGER NOT NULL,
    origin TEXT NOT NULL, artifact_id TEXT, dedupe_key TEXT NOT NULL, data TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS plan_rows_key ON plan_rows(dedupe_key);
CREATE TABLE IF NOT EXISTS plan_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, row_id TEXT NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL,
    at TEXT NOT NULL, changes TEXT NOT NULL, reason TEXT, source TEXT);
CREATE INDEX IF NOT EXISTS plan_events_row ON plan_events(row_id);
CREATE TABLE IF NOT EXISTS plan_versions (
    version INTEGER PRIMARY KEY, created_at TEXT NOT NULL, actor TEXT NOT NULL, cause TEXT NOT NULL,
    row_ids TEXT NOT NULL, rows TEXT NOT NULL);
"""
TABLES = ("meta", "documents", "versions", "chunks", "chunks_fts", "artifacts", "users", "api_tokens", "sessions",
          "audit_log", "plan_rows", "plan_events", "plan_versions")
PASSWORD = "fjalëkalim-i-gjatë"
TOKEN = "kvsp_nje-token-i-vjeter"
SESSION = "nje-sesion-i-vjeter"
PASSAGES = ["Këshilli Vendor i Sigurisë Publike mblidhet çdo tre muaj.",
            "Policia e Shtetit raporton për vjedhjet në lagjen e re."]
STAMP = "2025-03-01T09:00:00+00:00"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def old_folder(data_dir) -> list[np.ndarray]:
    """The data folder as the code of 9c01fd2 left it: one document, accounts, a chain, a plan row."""
    data_dir.mkdir(parents=True)
    conn = sqlite3.connect(data_dir / "kvsp.db")
    conn.executescript(STORE_SCHEMA + PLAN_SCHEMA)
    for statement in AUTH_SCHEMA + AUDIT_SCHEMA:
        conn.execute(statement)
    text = "\n\n".join(PASSAGES)
    conn.execute("INSERT INTO meta VALUES ('embedder', 'test-embedder'), ('index_stamp', '2:2')")
    conn.execute("INSERT INTO documents VALUES ('d1', 'a.txt', 'A', 'minutes', 1, ?, ?)", (STAMP, STAMP))
    conn.execute("INSERT INTO versions VALUES (1, 'd1', 1, ?, ?, ?, 1, '{}', '[]', 'test-embedder', ?)",
                 (sha(text), len(text), text, STAMP))
    vectors = [np.eye(8, dtype=np.float32)[i] for i in range(len(PASSAGES))]
    start = 0
    for i, (passage, vector) in enumerate(zip(PASSAGES, vectors), 1):
        conn.execute("INSERT INTO chunks VALUES (?, 'd1', 1, ?, 1, '[\"Neni 1\"]', ?, ?, ?, ?)",
                     (i, i - 1, start, start + len(passage), passage, vector.tobytes()))
        conn.execute("INSERT INTO chunks_fts(rowid, lex) VALUES (?, ?)", (i, " ".join(lexical_tokens(passage))))
        start += len(passage) + 2
    conn.execute("INSERT INTO artifacts VALUES ('a1', 'answer', ?, ?)",
                 (STAMP, json.dumps({"id": "a1", "answer": "Çdo tre muaj [1].", "citations": [{"chunk_id": 1}]})))
    conn.execute("INSERT INTO users VALUES ('admin-1', 'admin', ?, ?)", (PasswordHasher().hash(PASSWORD), STAMP))
    conn.execute("INSERT INTO api_tokens VALUES (?, 'admin-1', ?)", (sha(TOKEN), STAMP))
    conn.execute("INSERT INTO sessions VALUES (?, 'admin-1', '2999-01-01T00:00:00+00:00')", (sha(SESSION),))
    prev = audit.GENESIS
    for n, action in enumerate(("user.create", "plan.approve"), 1):
        entry = {"id": n, "ts": f"2025-03-01T09:0{n}:00.000+00:00", "actor": "admin-1", "action": action,
                 "object_type": "plan_row", "object_id": "r1", "details": {"arsye": "urgjent"}}
        entry_hash = audit.entry_hash(prev, entry)
        conn.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (*(entry[k] for k in audit.FIELDS[:-1]), audit.canonical(entry["details"]), prev, entry_hash))
        prev = entry_hash
    data = {"nr": "1", "problem": "Ndriçimi pranë shkollave", "priority": "i lartë", "activities": ["Llamba"]}
    conn.execute("INSERT INTO plan_rows VALUES ('r1', 'approved', 'not_started', 1, 'extract', NULL, 'problem:x', ?,"
                 " ?, ?)", (json.dumps(data), STAMP, STAMP))
    conn.execute("INSERT INTO plan_events (row_id, action, actor, at, changes) VALUES ('r1', 'approve', 'admin-1',"
                 " ?, '{\"state\": [\"proposed\", \"approved\"]}')", (STAMP,))
    conn.execute("INSERT INTO plan_versions VALUES (1, ?, 'admin-1', 'approve r1', '[\"r1\"]', ?)",
                 (STAMP, json.dumps([{"id": "r1", **data}])))
    conn.commit()
    conn.close()
    return vectors


def contents(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in TABLES}


def test_a_folder_from_before_migrations_opens_with_nothing_lost(tmp_path):
    data_dir = tmp_path / "data"
    vectors = old_folder(data_dir)
    before = contents(data_dir / "kvsp.db")

    store = SqliteStore(data_dir)
    db = store.database
    after = contents(data_dir / "kvsp.db")
    assert {t: rows for t, rows in after.items() if t != "meta"} == {t: rows for t, rows in before.items() if t != "meta"}
    assert set(before["meta"]) <= set(after["meta"])
    applied = [r[0] for r in db.connection().execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert applied == ["0001_store", "0002_accounts_audit_plan", "0003_conversations"]

    # the store reads what the old code wrote
    assert [(d.id, d.chunks, d.sha256) for d in store.list_documents()] == [("d1", 2, sha("\n\n".join(PASSAGES)))]
    assert [i for i, _ in store.lexical_search(lexical_tokens("policia vjedhjet"), 5)] == [2]
    assert [i for i, _ in store.dense_search(vectors[0], 1)] == [1]
    assert store.get_artifact("a1")["citations"] == [{"chunk_id": 1}]

    # accounts: the password, the token and the session still open the account
    accounts = AuthDb(db)
    admin = {"name": "admin-1", "role": "admin"}
    assert accounts.check_password("admin-1", PASSWORD) == admin
    assert accounts.user_for_token(TOKEN) == admin and accounts.user_for_session(SESSION) == admin

    # the chain verifies and goes on from entry 2
    assert audit.verify(db) == []
    plan = PlanStore(db)
    assert [r["id"] for r in plan.plan()] == ["r1"] and plan.version() == 1
    assert [e["action"] for e in plan.history("r1")] == ["approve"]
    plan.edit("r1", {"priority": "i moderuar"}, "admin-1", reason="sipas KVSP")
    assert plan.version() == 2 and [e["id"] for e in audit.entries(db)] == [3, 2, 1] and audit.verify(db) == []
    store.close()
    db.close()
