"""Saved chat conversations, each its owner's alone: list mine, start one, open one, delete one.
Another user's conversation answers 404, as one that does not exist: its id leaks nothing.
Turns are added by /api/ask with a `conversation_id` (web/routes/chat.py)."""
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from assistant.accounts import audit
from web.deps import CurrentUser, conversations_of, get_database
from web.errors import ApiError
from web.params import ID_PATTERN, Text

router = APIRouter()
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]


class NewConversation(BaseModel):
    title: Text = Field("", max_length=2000, description="empty: the first question becomes the title")


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such conversation.")


@router.get("/api/conversations")
def list_conversations(request: Request, user: CurrentUser):
    """My conversations, the one used last first."""
    return {"conversations": [c.public() for c in conversations_of(request).owned(user["name"])]}


@router.post("/api/conversations", status_code=201)
def start_conversation(request: Request, user: CurrentUser, body: NewConversation | None = None):
    return {"conversation": conversations_of(request).create(user["name"], (body or NewConversation()).title).public()}


@router.get("/api/conversations/{conversation_id}")
def open_conversation(request: Request, user: CurrentUser, conversation_id: IdPath):
    store = conversations_of(request)
    conversation = store.get(user["name"], conversation_id)
    if conversation is None:
        raise _not_found()
    turns = store.turns(user["name"], conversation_id) or []
    return {"conversation": {**conversation.public(), "turns": [asdict(t) for t in turns]}}


@router.delete("/api/conversations/{conversation_id}", status_code=204)
def delete_conversation(request: Request, user: CurrentUser, conversation_id: IdPath):
    if not conversations_of(request).delete(user["name"], conversation_id):
        raise _not_found()
    # State changes are audited; the title stays out (it is the user's question), the answers stay stored.
    audit.record(get_database(request), user["name"], "conversation.delete", "conversation", conversation_id, {})
    return Response(status_code=204)
