-- Documents, their versions, the chunks of each current version (with their vectors: the FAISS
-- file is a cache of this table), the FTS5 token strings, generated artifacts and store facts
-- ('embedder', 'lexical_version', 'generation'). Same model as postgres/0001_initial.sql.
-- IF NOT EXISTS: a data folder made before migrations existed holds these tables already and
-- adopts this migration as it is.
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
