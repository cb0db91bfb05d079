"""Ask: the chat page, cited answers (plain and streamed, in a saved conversation or alone), stored
answers, and the document viewer that opens a citation with its quote highlighted."""
import json
import logging
import queue
import threading
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from assistant.answers.compose import DEFAULT_K
from assistant.answers.service import ask
from ingest.limits import damaged_note
from web.deps import CurrentUser, ServicesDep, StoreDep, conversations_of
from web.errors import ApiError
from web.pages import render
from web.params import ConversationId, Text

log = logging.getLogger(__name__)
router = APIRouter()
MAX_K = 20
MAX_HISTORY = 10


class Question(BaseModel):
    question: Text = Field(..., max_length=2000)
    k: int | None = Field(None, ge=1, le=MAX_K)
    history: list[Annotated[Text, Field(max_length=2000)]] = Field(
        default_factory=list, max_length=MAX_HISTORY,
        description="without a conversation: the earlier questions, oldest first; a follow-up is read with the last one")
    conversation_id: ConversationId | None = Field(
        None, description="one of your conversations: the turn is saved in it, and its record is the history")
    turn_id: ConversationId | None = Field(
        None, description="with conversation_id: a turn of it asked again; its answer is replaced")


def _history(request: Request, body: Question, user: dict) -> tuple[str, ...]:
    """The questions the new one is read with: the conversation's record, or the ones sent."""
    if body.conversation_id is None:
        if body.turn_id is not None:
            raise ApiError(422, "invalid_request", "turn_id: needs conversation_id")
        return tuple(q.strip() for q in body.history if q.strip())
    if body.history:
        raise ApiError(422, "invalid_request", "history: a conversation's history is its record; send one of the two")
    history = conversations_of(request).history(user["name"], body.conversation_id, before=body.turn_id)
    if history is None:
        raise ApiError(404, "not_found", "No such conversation or turn.")
    return history


def _answer(request: Request, services, body: Question, user: dict, history: tuple[str, ...],
            on_token=None) -> dict:
    question = body.question.strip()
    result, artifact_id = ask(services, question, k=body.k or DEFAULT_K, producer=user.get("name", "api"),
                              history=history, on_token=on_token)
    response = {**result.public(), "artifact_id": artifact_id}
    if body.conversation_id is not None:
        turn = conversations_of(request).record(user["name"], body.conversation_id, question, response,
                                                replace=body.turn_id)
        if turn is None:  # deleted while the answer was being written
            raise ApiError(404, "not_found", "No such conversation or turn.")
        response |= {"conversation_id": body.conversation_id, "turn_id": turn.id}
    return response


def _checked(request: Request, body: Question, user: dict) -> tuple[str, ...]:
    if not body.question.strip():
        raise ApiError(422, "empty_question", "The question is empty.")
    return _history(request, body, user)


@router.post("/api/ask")
def api_ask(request: Request, body: Question, services: ServicesDep, user: CurrentUser):
    return _answer(request, services, body, user, _checked(request, body, user))


@router.post("/api/ask/stream")
def api_ask_stream(request: Request, body: Question, services: ServicesDep, user: CurrentUser):
    """The answer as NDJSON lines: {"type": "delta", "text"} pieces of the LLM's reply as the model
    writes them (a draft: not yet checked), then {"type": "done", ...the /api/ask response}, whose
    answer is what the claim check kept and replaces the draft; its `llm_check` says "trimmed"
    when sentences were taken out and "rejected" when nothing was kept (the answer is then the
    extractive one). Offline, "done" comes at once. A failure after the stream began is
    {"type": "error", "error": {"code", "message"}}."""
    history = _checked(request, body, user)  # a bad request is still a plain JSON error
    events: queue.Queue = queue.Queue()

    def work():
        try:
            done = _answer(request, services, body, user, history, on_token=lambda text: events.put(("delta", text)))
            events.put(("done", done))
        except ApiError as exc:
            events.put(("error", {"code": exc.code, "message": exc.message}))
        except Exception:  # noqa: BLE001  the stream's counterpart of the 500 handler
            log.exception("a streamed answer failed")
            events.put(("error", {"code": "internal_error", "message": "Internal error; the server log has details."}))

    def lines():
        threading.Thread(target=work, daemon=True).start()
        while True:
            kind, value = events.get()
            if kind == "delta":
                event = {"type": "delta", "text": value}
            elif kind == "done":
                event = {"type": "done", **value}
            else:
                event = {"type": "error", "error": value}
            yield json.dumps(event, ensure_ascii=False) + "\n"
            if kind != "delta":
                return

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/api/artifacts/{artifact_id}")
def get_artifact(artifact_id: str, store: StoreDep, user: CurrentUser):
    artifact = store.get_artifact(artifact_id)
    if artifact is None:
        raise ApiError(404, "not_found", f"No artifact with id {artifact_id!r}.")
    return artifact


@router.get("/", include_in_schema=False)
def chat_page(request: Request):
    return render(request, "chat.html")


@router.get("/documents/{document_id}", include_in_schema=False)
def document_page(request: Request, document_id: str, store: StoreDep, user: CurrentUser,
                  start: int | None = None, end: int | None = None):
    doc = store.get_document(document_id)
    if doc is None:
        raise ApiError(404, "not_found", f"No document with id {document_id!r}.")
    span = (start, end) if start is not None and end is not None and 0 <= start < end <= len(doc.text) else None
    pages = page_starts(store.document_chunks(document_id))
    return render(request, "document.html", document=doc, pages=viewer_pages(doc.text, pages, span),
                  quote=doc.text[span[0]:span[1]] if span else None, damaged=damaged_note(doc.meta))


def page_starts(chunks) -> list[tuple[int, int]]:
    """(page, offset where it starts) from the chunks' pages and spans, in text order."""
    starts: list[tuple[int, int]] = []
    for c in sorted(chunks, key=lambda c: c.start):
        if not starts or c.page > starts[-1][0]:
            starts.append((c.page, 0 if not starts else c.start))
    return starts or [(1, 0)]


def viewer_pages(text: str, starts: list[tuple[int, int]], span: tuple[int, int] | None) -> list[dict]:
    """The text cut into pages, each a list of (text, highlighted, first-highlighted) pieces;
    the page holding the start of the span is marked `current`."""
    bounds = [offset for _, offset in starts] + [len(text)]
    pages = []
    for (page, a), b in zip(starts, bounds[1:]):
        cuts = sorted({a, b, *(x for x in (span or ()) if a < x < b)})
        pieces = []
        for x, y in zip(cuts, cuts[1:]):
            inside = bool(span) and span[0] <= x and y <= span[1]
            pieces.append({"text": text[x:y], "mark": inside, "first": inside and x == span[0]})
        pages.append({"page": page, "pieces": pieces, "current": bool(span) and a <= span[0] < b})
    return pages
