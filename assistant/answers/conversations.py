"""Chat conversations kept on the server: each has one owner, a title (its first question) and
turns in order; a turn keeps the question, what the chat page shows of the answer, and the id of
the answer artifact that holds its inputs and evidence.

Every read and write names the owner: another user's conversation is not found, exactly as one
that does not exist, so ids leak nothing. Tables live in the store's database (SQLite in the data
folder, or PostgreSQL with KVSP_DATABASE_URL), made by migrations 0003 (sqlite) / 0004 (postgres).
"""
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from assistant.store.database import database

TITLE_CHARS = 120  # a long first question is cut to this for the list
HISTORY_TURNS = 5  # earlier questions that go with a new one (a follow-up is read with the last)


@dataclass(frozen=True)
class Turn:
    id: str
    position: int
    question: str
    answer: str
    abstained: bool
    citations: list[dict]
    context: str
    backend: str
    artifact_id: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Conversation:
    id: str
    owner: str
    title: str
    created_at: str
    updated_at: str
    turns: int  # how many

    def public(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "owner"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def title_of(question: str) -> str:
    text = " ".join(question.split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1].rstrip() + "…"


class Conversations:
    def __init__(self, db):
        self.database = database(db)

    @property
    def db(self):
        return self.database.connection()

    # ---- reading -------------------------------------------------------------------------
    _SELECT = ("SELECT c.id, c.owner, c.title, c.created_at, c.updated_at, "
               "(SELECT COUNT(*) FROM conversation_turns t WHERE t.conversation_id = c.id) FROM conversations c ")

    def owned(self, owner: str) -> list[Conversation]:
        """The owner's conversations, the one used last first."""
        found = self.db.execute(self._SELECT + "WHERE c.owner = ? ORDER BY c.updated_at DESC, c.id", (owner,))
        return [Conversation(*r) for r in found.fetchall()]

    def get(self, owner: str, conversation_id: str) -> Conversation | None:
        r = self.db.execute(self._SELECT + "WHERE c.id = ? AND c.owner = ?", (conversation_id, owner)).fetchone()
        return Conversation(*r) if r else None

    def turns(self, owner: str, conversation_id: str) -> list[Turn] | None:
        """The conversation's turns in order; None when the owner has no such conversation."""
        if self.get(owner, conversation_id) is None:
            return None
        found = self.db.execute(
            "SELECT id, position, question, answer, abstained, citations, context, backend, artifact_id, created_at, "
            "updated_at FROM conversation_turns WHERE conversation_id = ? ORDER BY position", (conversation_id,))
        return [Turn(r[0], r[1], r[2], r[3], bool(r[4]), json.loads(r[5]), r[6], r[7], r[8], r[9], r[10])
                for r in found.fetchall()]

    def history(self, owner: str, conversation_id: str, before: str | None = None) -> tuple[str, ...] | None:
        """The questions a new turn is read with: the last HISTORY_TURNS, or those before turn
        `before` (a turn asked again). None when the conversation or that turn is not the owner's."""
        turns = self.turns(owner, conversation_id)
        if turns is None:
            return None
        if before is not None:
            at = next((i for i, t in enumerate(turns) if t.id == before), None)
            if at is None:
                return None
            turns = turns[:at]
        return tuple(t.question for t in turns[-HISTORY_TURNS:])

    # ---- writing -------------------------------------------------------------------------
    def create(self, owner: str, title: str = "") -> Conversation:
        conversation_id, stamp = uuid.uuid4().hex, _now()
        with self.database.transaction():
            self.db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                            (conversation_id, owner, title_of(title), stamp, stamp))
        return Conversation(conversation_id, owner, title_of(title), stamp, stamp, 0)

    def record(self, owner: str, conversation_id: str, question: str, response: dict,
               replace: str | None = None) -> Turn | None:
        """Append the answered question as the conversation's next turn, or put it in place of turn
        `replace` (asked again); the first question becomes the title of an untitled conversation.
        `response` is the answer as /api/ask returns it. None when the conversation or the turn is
        not the owner's."""
        stamp = _now()
        fields = (question, response["answer"], bool(response["abstained"]),
                  json.dumps(response["citations"], ensure_ascii=False), response.get("context") or "",
                  response["backend"], response["artifact_id"])
        with self.database.transaction():
            if self.get(owner, conversation_id) is None:
                return None
            if replace is None:
                turn_id = uuid.uuid4().hex
                self.db.execute(
                    "INSERT INTO conversation_turns VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM "
                    "conversation_turns WHERE conversation_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (turn_id, conversation_id, conversation_id, *fields, stamp, stamp))
            else:
                turn_id = replace
                changed = self.db.execute(
                    "UPDATE conversation_turns SET question = ?, answer = ?, abstained = ?, citations = ?, context = ?, "
                    "backend = ?, artifact_id = ?, updated_at = ? WHERE id = ? AND conversation_id = ? RETURNING id",
                    (*fields, stamp, replace, conversation_id)).fetchall()
                if not changed:
                    return None
            self.db.execute("UPDATE conversations SET updated_at = ?, title = CASE WHEN title = '' THEN ? ELSE title END "
                            "WHERE id = ?", (stamp, title_of(question), conversation_id))
        return next((t for t in self.turns(owner, conversation_id) or () if t.id == turn_id), None)

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Delete the owner's conversation and its turns (the answer artifacts stay: the audit
        trail keeps them); False when the owner has no such conversation."""
        with self.database.transaction():
            if self.get(owner, conversation_id) is None:
                return False
            self.db.execute("DELETE FROM conversation_turns WHERE conversation_id = ?", (conversation_id,))
            self.db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        return True
