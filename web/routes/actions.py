"""Action items from pasted text or a stored document (its task tables included), stored as an artifact."""
from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from assistant.meetings.actions import extract_actions
from web.deps import StoreDep, require_role
from web.errors import ApiError

router = APIRouter()
PRODUCER = "offline-rules v1"


class ExtractRequest(BaseModel):
    text: str | None = Field(None, max_length=500_000)
    meeting_date: date | None = None
    document_id: str | None = None

    @model_validator(mode="after")
    def one_source(self):
        if not (self.text or self.document_id):
            raise ValueError("send 'text' or 'document_id'")
        return self


@router.post("/api/actions/extract")
def extract(body: ExtractRequest, store: StoreDep, user: dict = require_role("secretary")):
    if body.document_id:
        doc = store.get_document(body.document_id)
        if doc is None:
            raise ApiError(404, "not_found", f"No document with id {body.document_id!r}.")
        items = [a.to_dict(doc.id) for a in extract_actions(doc.text, body.meeting_date, doc.tables)]
        inputs = {"document_id": doc.id, "sha256": doc.sha256, "version": doc.version}
    else:
        items = [a.to_dict() for a in extract_actions(body.text, body.meeting_date)]
        inputs = {"text": body.text}
    if body.meeting_date:
        inputs["meeting_date"] = body.meeting_date.isoformat()
    artifact_id = store.save_artifact("actions", {"producer": PRODUCER, "user": user.get("name"), "inputs": inputs,
                                                  "output": {"items": items}})
    return {"items": items, "artifact_id": artifact_id}
