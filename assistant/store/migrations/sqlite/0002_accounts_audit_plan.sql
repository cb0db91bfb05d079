-- The tables that each module used to create on every connection: accounts (users, API tokens,
-- page sessions; only hashes of secrets), the append-only audit log and the council's plan
-- (rows, field-level events, versions of the approved set). IF NOT EXISTS: see 0001.
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, expires_at TEXT NOT NULL);

-- AUTOINCREMENT: a removed last entry still leaves its id in sqlite_sequence, which verify reads.
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    object_type TEXT, object_id TEXT, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_object ON audit_log(object_id);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

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
