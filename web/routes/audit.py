"""The audit log and the trace of an artifact, for auditors (and admins): JSON and pages.

The trace of an object id shows the stored artifact with that id (its inputs, every cited
source span, linked to the document viewer) and every audit entry about it, oldest first. A plan
row is traced through the artifact it was proposed or imported from, with the row's own sources;
a document shows its fields and opens in the viewer.
A span cited from an artifact's own input text (pasted concerns, notes) is highlighted there.
"""
import json

from fastapi import APIRouter, Query, Request

from assistant.accounts import audit
from assistant.core.sources import Source
from assistant.plan.store import PlanStore
from web.deps import StoreDep, get_database, require_role
from web.errors import ApiError
from web.pages import render
from web.params import INT64_MAX, iso_moment

router = APIRouter()
AUDITORS = ("auditor",)
FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")
INPUT_KEYS = ("inputs", "question", "notes", "text", "document_id", "meeting", "meeting_date")
ROW_FIELDS = ("nr", "problem", "state", "status", "priority", "activities", "responsible", "deadline_text",
              "requested_by")  # what the trace of a plan row shows of the row
DOCUMENT_FIELDS = ("title", "kind", "filename", "pages", "chunks", "version", "created_at")  # of a document's trace
SPAN_INPUTS = ("text", "notes")  # the input a cited span without a document points into


def as_json(value, indent: int | None = None) -> str:
    """JSON for the pages, Albanian letters kept as they are."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def _filters(request: Request) -> dict:
    found = {key: request.query_params[key].strip() for key in FILTERS if request.query_params.get(key, "").strip()}
    for key in ("since", "until"):
        if key in found:
            try:
                iso_moment(found[key])
            except ValueError as exc:
                raise ApiError(422, "invalid_request", f"{key}: {exc}") from exc
    return found


def _entries(request: Request, limit: int, offset: int) -> tuple[dict, list[dict]]:
    filters = _filters(request)
    return filters, audit.entries(get_database(request), limit=limit, offset=offset, **filters)


def _chain(request: Request, anchor: str | None = None) -> dict:
    db = get_database(request)
    problems = audit.verify(db, anchor)
    last = audit.head(db)
    return {"ok": not problems, "entries": last["id"] if last else 0, "head": last["hash"] if last else audit.GENESIS,
            "problems": [p.public() for p in problems]}


@router.get("/api/audit")
def audit_log(request: Request, limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0, le=INT64_MAX),
              user: dict = require_role(*AUDITORS)):
    """Entries newest first; filters: actor, action, object_type, object_id, since, until (ISO)."""
    filters, found = _entries(request, limit, offset)
    return {"entries": found, "filters": filters, "limit": limit, "offset": offset}


@router.get("/api/audit/verify")
def audit_verify(request: Request, head: str | None = Query(None, max_length=64, pattern="^[0-9a-f]{64}$"),
                 user: dict = require_role(*AUDITORS)):
    """The chain recomputed with the data folder's key; `head`, a hash noted earlier, must still be in it."""
    return _chain(request, head)


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0, le=INT64_MAX),
               user: dict = require_role(*AUDITORS)):
    filters, found = _entries(request, limit, offset)
    return render(request, "audit.html", entries=found, filters=filters, chain=_chain(request),
                  limit=limit, offset=offset, as_json=as_json)


def sources_of(value) -> list[dict]:
    """Every cited span anywhere in an artifact, each a dict that reads as a `Source` (citations
    of answers, sources of plan rows and action items alike), as stored: an answer's citation
    keeps its number and title for the page."""
    found, seen = [], set()

    def walk(node):
        if isinstance(node, dict):
            source = Source.from_dict(node)
            if source is not None:
                key = (source.document_id, source.start, source.end)
                if key not in seen:
                    seen.add(key)
                    found.append(node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return found


def trace(store, db, object_id: str, plan_row: dict | None = None, span: tuple[int, int] | None = None) -> dict:
    """The artifact stored under `object_id` (or, for a plan row, the one it came from), its cited
    sources, its inputs, the audit entries about it oldest first, and the `span` of its input
    text to highlight (a row from pasted text: its own span unless another is asked for)."""
    artifact = store.get_artifact(object_id)
    origin_id, sources = object_id, sources_of(artifact)
    row = None
    if artifact is None and plan_row:
        origin_id = plan_row.get("artifact_id")
        artifact = store.get_artifact(origin_id) if origin_id else None
        sources = sources_of([plan_row.get("source"), plan_row.get("measure")])
        row = {key: plan_row[key] for key in ROW_FIELDS if plan_row.get(key)}
        own = plan_row.get("source") or {}
        if span is None and not own.get("document_id") and "start" in own:
            span = (own["start"], own["end"])
    document = store.get_document(object_id) if artifact is None and not plan_row else None
    payload = (artifact or {}).get("payload") or artifact or {}
    inputs = payload.get("inputs") if isinstance(payload.get("inputs"), dict) else {
        key: payload[key] for key in INPUT_KEYS if key in payload}
    return {"id": object_id, "artifact": artifact, "origin": origin_id if artifact else None, "row": row,
            "document": {key: getattr(document, key) for key in DOCUMENT_FIELDS} if document else None,
            "inputs": inputs, "sources": sources, "highlight": highlight(inputs, span),
            "audit": list(reversed(audit.entries(db, object_id=object_id, limit=1000)))}


def highlight(inputs: dict, span: tuple[int, int] | None) -> dict | None:
    """The input text holding `span`, cut around it: {"key", "before", "marked", "after"}."""
    if span is None:
        return None
    start, end = span
    for key in SPAN_INPUTS:
        text = inputs.get(key)
        if isinstance(text, str) and 0 <= start < end <= len(text):
            return {"key": key, "before": text[:start], "marked": text[start:end], "after": text[end:]}
    return None


def _trace_or_404(request: Request, store, artifact_id: str, start: int | None = None, end: int | None = None) -> dict:
    row = PlanStore(get_database(request)).get(artifact_id)
    span = (start, end) if start is not None and end is not None else None
    found = trace(store, get_database(request), artifact_id, row, span)
    if found["artifact"] is None and found["document"] is None and not found["audit"]:
        raise ApiError(404, "not_found", f"No artifact and no audit entry for {artifact_id!r}.")
    return found


@router.get("/api/trace/{artifact_id}")
def trace_api(request: Request, artifact_id: str, store: StoreDep, user: dict = require_role(*AUDITORS)):
    return _trace_or_404(request, store, artifact_id)


@router.get("/trace/{artifact_id}", include_in_schema=False)
def trace_page(request: Request, artifact_id: str, store: StoreDep, user: dict = require_role(*AUDITORS),
               start: int | None = Query(None, ge=0, le=INT64_MAX), end: int | None = Query(None, ge=0, le=INT64_MAX)):
    return render(request, "trace.html", trace=_trace_or_404(request, store, artifact_id, start, end), as_json=as_json)
