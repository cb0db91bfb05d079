-- Chat conversations kept on the server, one owner each (the account's name; "local" in local
-- single-user mode), and their turns in order. A turn links the answer artifact that holds its
-- inputs and evidence, and keeps what the chat page shows: the answer, its citations, the context.
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations(owner, updated_at);
CREATE TABLE IF NOT EXISTS conversation_turns (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, abstained INTEGER NOT NULL,
    citations TEXT NOT NULL, context TEXT NOT NULL, backend TEXT NOT NULL, artifact_id TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (conversation_id, position));
