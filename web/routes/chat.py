"""Ask: the chat page, cited answers (plain and streamed), stored answers, and the document viewer
that opens a citation with its quote highlighted."""
import json
import re
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from assistant.answers.compose import DEFAULT_K
from assistant.answers.service import ask
from ingest.limits import damaged_note
from web.deps import CurrentUser, ServicesDep, StoreDep
from web.errors import ApiError
from web.pages import render
from web.params import Text

router = APIRouter()
MAX_K = 20
MAX_HISTORY = 10


class Question(BaseModel):
    question: Text = Field(..., max_length=2000)
    k: int | None = Field(None, ge=1, le=MAX_K)
    history: list[Annotated[Text, Field(max_length=2000)]] = Field(
        default_factory=list, max_length=MAX_HISTORY,
        description="the conversation's earlier questions, oldest first: a follow-up is read with the last one")


def _answer(services, body: Question, user: dict) -> dict:
    if not body.question.strip():
        raise ApiError(422, "empty_question", "The question is empty.")
    result, artifact_id = ask(services, body.question.strip(), k=body.k or DEFAULT_K, producer=user.get("name", "api"),
                              history=tuple(q.strip() for q in body.history if q.strip()))
    return {**result.public(), "artifact_id": artifact_id}


@router.post("/api/ask")
def api_ask(body: Question, services: ServicesDep, user: CurrentUser):
    return _answer(services, body, user)


@router.post("/api/ask/stream")
async def api_ask_stream(body: Question, services: ServicesDep, user: CurrentUser):
    """The same answer as NDJSON lines: {"type": "delta", "text"} pieces of the answer, then
    {"type": "done", ...the /api/ask response}. The answer is composed whole (offline, or a
    validated LLM reply), so the pieces follow one another at once: the page's protocol is ready
    for an answer written as it streams, the composer does not yet write one."""
    if not body.question.strip():
        raise ApiError(422, "empty_question", "The question is empty.")
    response = await run_in_threadpool(_answer, services, body, user)

    def lines():
        for piece in re.findall(r"\S+\s*", response["answer"]):
            yield json.dumps({"type": "delta", "text": piece}, ensure_ascii=False) + "\n"
        yield json.dumps({"type": "done", **response}, ensure_ascii=False) + "\n"

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
