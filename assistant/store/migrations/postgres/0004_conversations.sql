-- Chat conversations and their turns, as sqlite/0003_conversations.sql.
CREATE TABLE conversations (
    id text PRIMARY KEY,
    owner text NOT NULL,
    title text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL);
CREATE INDEX conversations_owner ON conversations (owner, updated_at);
CREATE TABLE conversation_turns (
    id text PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position integer NOT NULL,
    question text NOT NULL,
    answer text NOT NULL,
    abstained boolean NOT NULL,
    citations text NOT NULL,
    context text NOT NULL,
    backend text NOT NULL,
    artifact_id text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    UNIQUE (conversation_id, position));
