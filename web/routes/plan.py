"""The council's plan: extract a plan table, propose rows from concerns, approve / reject / edit
them, track their status, export the table; and the plan page."""
import re
from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from assistant.accounts import audit
from assistant.core.sources import Source
from assistant.plan import export as plan_export
from assistant.plan.extract import LEVELS, combined_status, extract_plan, match_reports, status_reports
from assistant.plan.store import STATUSES, PlanError, PlanStore
from assistant.plan.proposals import propose_rows, retriever_measure_finder
from web.deps import StoreDep, get_database, in_local_mode, require_role
from web.errors import ApiError
from web.pages import render
from web.params import Int64, Text

router = APIRouter()
PRODUCER = "offline-rules"  # the extractive, rule-based backend of assistant/plan.py and proposals.py
ERRORS = {"not_found": 404, "invalid": 422, "conflict": 409, "forbidden": 403}


class DocumentIn(BaseModel):
    document_id: Text


class ProposeIn(BaseModel):
    text: Text | None = None
    document_id: Text | None = None


class DecisionIn(BaseModel):
    reason: str | None = None


class StatusIn(BaseModel):
    status: str
    note: str | None = None
    source: dict | None = None


class TrackIn(DocumentIn):
    apply: bool = False


def nr_key(row: dict) -> tuple:
    """Plan numbers in number order (1, 1.3, 2, 10), rows without one last in plan order."""
    parts = re.findall(r"\d+", str(row.get("nr") or ""))
    return (0, [int(p) for p in parts]) if parts else (1, [])


def plan_store(request: Request) -> PlanStore:
    return PlanStore(get_database(request))


def _document(store, document_id: str):
    doc = store.get_document(document_id)
    if doc is None:
        raise ApiError(404, "not_found", f"No document with id {document_id!r}.")
    return doc


def _citation(doc, source: dict) -> dict:
    """A row's span of `doc` as the artifact's citation: the document and the bytes that were read."""
    return Source(source["start"], source["end"], source["quote"], doc.id, doc.sha256).public()


def _pasted(source: dict) -> dict:
    """A row's span of the pasted text (which the artifact keeps as its input) as its citation."""
    return Source(source["start"], source["end"], source["quote"]).public()


def _plan_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except PlanError as e:
        raise ApiError(ERRORS.get(e.code, 422), e.code, e.message) from None


def _extraction(store, document_id: str) -> tuple[list[dict], str]:
    doc = _document(store, document_id)
    rows = [r.to_dict() for r in extract_plan(doc, doc.id)]
    artifact_id = store.save_artifact("plan_extraction", {
        "inputs": {"document_id": doc.id}, "producer": PRODUCER, "rows": rows,
        "citations": [_citation(doc, r["source"]) for r in rows]})
    return rows, artifact_id


@router.post("/api/plan/extract")
def extract(body: DocumentIn, store: StoreDep, user: dict = require_role("secretary")):
    rows, artifact_id = _extraction(store, body.document_id)
    return {"rows": rows, "artifact_id": artifact_id}


@router.post("/api/plan/import")
def import_plan(body: DocumentIn, request: Request, store: StoreDep, user: dict = require_role("secretary")):
    """An existing plan document's rows, stored as proposals to approve into the plan."""
    rows, artifact_id = _extraction(store, body.document_id)
    plan = plan_store(request)
    stored = plan.add_rows(rows, origin="extract", actor=user["name"], artifact_id=artifact_id)
    return {"rows": stored, "artifact_id": artifact_id}


@router.post("/api/plan/propose")
def propose(body: ProposeIn, request: Request, store: StoreDep, user: dict = require_role("secretary")):
    if bool(body.text and body.text.strip()) == bool(body.document_id):
        raise ApiError(422, "invalid_request", "Send either 'text' or 'document_id'.")
    retriever = getattr(request.app.state.services, "retriever", None)
    find_measure = retriever_measure_finder(retriever) if retriever is not None else None
    if body.document_id:
        doc = _document(store, body.document_id)
        rows = propose_rows(doc.text, doc.id, find_measure)
        inputs, citations = {"document_id": doc.id}, [_citation(doc, r["source"]) for r in rows]
    else:
        rows = propose_rows(body.text, None, find_measure)
        inputs, citations = {"text": body.text}, [_pasted(r["source"]) for r in rows]
    citations += [r["measure"] for r in rows if r.get("measure")]
    artifact_id = store.save_artifact("plan_proposal", {"inputs": inputs, "producer": PRODUCER, "rows": rows,
                                                        "citations": citations})
    plan = plan_store(request)
    stored = plan.add_rows(rows, origin="propose", actor=user["name"], artifact_id=artifact_id)
    for row, saved in zip(rows, stored):
        row["id"], row["state"] = saved["id"], saved["state"]
    return {"rows": rows, "artifact_id": artifact_id}


@router.get("/api/plan")
def get_plan(request: Request):
    plan = plan_store(request)
    return {"version": plan.version(), "rows": plan.plan(), "proposals": plan.pending()}


@router.get("/api/plan/versions")
def versions(request: Request):
    plan = plan_store(request)
    return {"versions": plan.versions()}


@router.get("/api/plan/versions/{version}")
def version_rows(version: Int64, request: Request):
    plan = plan_store(request)
    rows = plan.version_rows(version)
    if rows is None:
        raise ApiError(404, "not_found", f"No plan version {version}.")
    return {"version": version, "rows": rows}


@router.get("/api/plan/rows/{row_id}")
def get_row(row_id: str, request: Request):
    plan = plan_store(request)
    row = plan.get(row_id)
    if row is None:
        raise ApiError(404, "not_found", f"No plan row {row_id!r}.")
    return {"row": row, "history": plan.history(row_id)}


def _decide(request: Request, action: str, row_id: str, *args, **kwargs):
    plan = plan_store(request)
    return {"row": _plan_call(getattr(plan, action), row_id, *args, **kwargs)}


@router.post("/api/plan/rows/{row_id}/approve")
def approve(row_id: str, request: Request, body: DecisionIn | None = None, user: dict = require_role("secretary")):
    return _decide(request, "approve", row_id, user["name"], body.reason if body else None,
                   own_rows=in_local_mode(request))  # local mode has one user: no second person to ask


@router.post("/api/plan/rows/{row_id}/reject")
def reject(row_id: str, request: Request, body: DecisionIn | None = None, user: dict = require_role("secretary")):
    return _decide(request, "reject", row_id, user["name"], body.reason if body else None)


@router.patch("/api/plan/rows/{row_id}")
def edit(row_id: str, body: dict, request: Request, user: dict = require_role("secretary")):
    reason = body.pop("reason", None)
    changes = body.pop("changes", body)
    if not isinstance(changes, dict) or not changes:
        raise ApiError(422, "invalid_request", "Send the fields to change, e.g. {\"priority\": \"i lartë\"}.")
    return _decide(request, "edit", row_id, changes, user["name"], reason)


@router.post("/api/plan/rows/{row_id}/status")
def set_status(row_id: str, body: StatusIn, request: Request, user: dict = require_role("secretary")):
    if body.status not in STATUSES:
        raise ApiError(422, "invalid_request", f"status: one of {', '.join(STATUSES)}")
    return _decide(request, "set_status", row_id, body.status, user["name"], body.note, body.source)


@router.post("/api/plan/track")
def track(body: TrackIn, request: Request, store: StoreDep, user: dict = require_role("secretary")):
    """Status updates for the approved rows from a later document's task-status table; with
    `apply`, they are recorded (each citing the table row)."""
    doc = _document(store, body.document_id)
    plan = plan_store(request)
    by_row: dict[str, list] = {}
    for row, report in match_reports(plan.plan(), status_reports(doc, doc.id)):
        by_row.setdefault(row["id"], []).append(report)
    updates = []
    for row_id, reports in by_row.items():
        status = combined_status([r.status for r in reports])
        note = "; ".join(f"{r.task}: {r.status_text}" + (f" – {r.comment}" if r.comment else "") for r in reports)
        source = reports[0].source
        updates.append({"row_id": row_id, "status": status, "note": note, "sources": [r.source for r in reports]})
        if body.apply:
            _plan_call(plan.set_status, row_id, status, user["name"], note, source)
    return {"updates": updates, "applied": body.apply}


@router.get("/api/plan/export")
def export(request: Request, format: str = Query("docx")):
    if format not in plan_export.FORMATS:
        raise ApiError(422, "invalid_request", f"format: one of {', '.join(plan_export.FORMATS)}")
    plan = plan_store(request)
    rows, version = plan.plan(), plan.version()
    municipality = request.app.state.settings.municipality or plan_export.municipality_of(rows)
    title = plan_export.heading(municipality, date.today(), version)
    note = " · ".join(filter(None, (f"Versioni {version} i planit", audit.anchor_text(get_database(request)))))
    data = plan_export.export(sorted(rows, key=nr_key), format, title=title, note=note)
    name = f"plani-v{version}.{format}"
    return Response(data, media_type=plan_export.FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/plan")
def plan_page(request: Request):
    plan = plan_store(request)
    rows, pending, version = sorted(plan.plan(), key=nr_key), plan.pending(), plan.version()
    rejected = plan.rows(("rejected",))
    history = {r["id"]: plan.status_history(r["id"]) for r in rows}
    reasons = {r["id"]: next((e["reason"] for e in reversed(plan.history(r["id"])) if e["action"] == "reject"), None)
               for r in rejected}
    return render(request, "plan.html", rows=rows, pending=pending, rejected=rejected, reasons=reasons,
                  version=version, history=history, levels=LEVELS, statuses=STATUSES)
