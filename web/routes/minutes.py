"""Minutes: notes -> structured meeting + action items + procesverbal draft (stored as an artifact), the draft
as a Word file, and the secretary's page."""
import re
import unicodedata
from datetime import datetime, timezone
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from assistant.accounts import audit
from assistant.meetings.actions import action_from_dict
from assistant.meetings.notes import meeting_from_dict
from assistant.meetings.minutes import draft_docx, prepare
from assistant.meetings.polish import polish_draft
from web.deps import CurrentUser, SettingsDep, StoreDep, get_database, require_role
from web.errors import ApiError
from web.pages import render
from web.params import ActionIn, MeetingIn, Text, sent_fields

router = APIRouter()
PRODUCER = "offline-rules v1"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class DraftRequest(BaseModel):
    notes: Text = Field(min_length=1, max_length=200_000)
    meeting: MeetingIn | None = None
    actions: list[ActionIn] | None = None
    id: Text | None = Field(None, description="an earlier draft these corrections belong to")


def _stored(store, artifact_id: str) -> dict:
    artifact = store.get_artifact(artifact_id)
    if not artifact or artifact.get("kind") != "minutes":
        raise ApiError(404, "not_found", f"No minutes draft with id {artifact_id!r}.")
    return artifact


@router.post("/api/minutes/draft")
def draft(body: DraftRequest, store: StoreDep, settings: SettingsDep, user: dict = require_role("secretary")):
    meeting_in = sent_fields(body.meeting) if body.meeting is not None else None
    actions_in = [sent_fields(a) for a in body.actions] if body.actions is not None else None
    meeting, actions, text = prepare(body.notes, meeting_in, actions_in)
    text = polish_draft(settings, body.notes, text)  # wording only, when an LLM is configured
    output = {"meeting": meeting.to_dict(), "actions": [a.to_dict() for a in actions], "draft": text,
              "backend": text["backend"], "warnings": text.get("warnings", [])}  # shown on the page before export
    corrected = body.meeting is not None or body.actions is not None
    correction = {"by": user.get("name"), "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "meeting": meeting_in, "actions": actions_in}
    if body.id and corrected:
        artifact = _stored(store, body.id)
        if artifact.get("inputs", {}).get("notes") != body.notes:
            raise ApiError(409, "notes_changed", "Corrections must be sent with the notes of the draft they correct.")
        artifact["output"], artifact["backend"] = output, output["backend"]
        artifact.setdefault("corrections", []).append(correction)
        store.update_artifact(body.id, artifact)
        artifact_id = body.id
    else:
        payload = {"producer": PRODUCER, "backend": output["backend"], "user": user.get("name"),
                   "inputs": {"notes": body.notes}, "output": output}
        artifact_id = store.save_artifact("minutes", payload)
        if corrected:  # the secretary's corrections, kept apart from what the rules produced
            artifact = store.get_artifact(artifact_id)
            artifact["corrections"] = [correction]
            store.update_artifact(artifact_id, artifact)
    return {"id": artifact_id, **output}


@router.get("/api/minutes/{artifact_id}.docx")
def draft_as_docx(artifact_id: str, request: Request, store: StoreDep, user: CurrentUser):
    output = _stored(store, artifact_id).get("output") or {}
    meeting = meeting_from_dict(output.get("meeting") or {})
    provenance = "; ".join(filter(None, (f"Drafti {artifact_id}", audit.anchor_text(get_database(request)))))
    data = draft_docx(meeting, [action_from_dict(a) for a in output.get("actions") or []], provenance)
    name = f"procesverbal-{(meeting.meeting_number or artifact_id).replace('/', '-')}.docx"
    return Response(data, media_type=DOCX_TYPE, headers={"Content-Disposition": attachment(name)})


def attachment(name: str) -> str:
    """A Content-Disposition no file name can break: an ASCII fallback of safe characters, and the real
    name percent-encoded as RFC 5987 filename* (quotes, CR/LF and "€" cannot end or split the header)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore")
                      .decode()).strip("_") or "procesverbal.docx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/minutes")
def minutes_page(request: Request):
    return render(request, "minutes.html")
