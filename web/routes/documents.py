"""Documents: upload (ingest, at once or as a background job), list, read, delete; and the documents page."""
from fastapi import APIRouter, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from assistant.accounts import audit
from assistant.core.ingestion import ingest_upload
from assistant.core.jobs import JobsBusy
from ingest.limits import damaged_note
from web.deps import ServicesDep, StoreDep, require_role
from web.errors import ApiError
from web.pages import render
from web.routes.jobs import runner

router = APIRouter()
READ_BLOCK = 1024 * 1024
KINDS = ("regulation", "strategy", "plan", "minutes", "notes", "guide", "slides", "invitation", "other")


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """Read an upload without ever holding more than `limit` + one block in memory."""
    parts, size = [], 0
    while block := await upload.read(READ_BLOCK):
        size += len(block)
        if size > limit:
            raise ApiError(413, "too_large", f"The file is larger than the upload limit ({limit // 2**20} MB).")
        parts.append(block)
    return b"".join(parts)


def warnings(doc) -> list[str]:
    """What the reader could not read whole, in Albanian (empty for a clean file)."""
    note = damaged_note(doc.meta)
    return [note] if note else []


def wants_job(request: Request) -> bool:
    """`Prefer: respond-async` (RFC 7240) asks for a job id at once instead of the finished document."""
    return "respond-async" in request.headers.get("prefer", "").lower()


@router.post("/api/documents", status_code=201, responses={202: {"description": "a background job: GET its Location"}})
async def upload_document(request: Request, file: UploadFile, services: ServicesDep,
                          user: dict = require_role("secretary")):
    data = await read_limited(file, services.settings.upload_limit_bytes)
    name = file.filename or ""
    if wants_job(request):
        def work(progress) -> dict:
            result = ingest_upload(services, user["name"], name, data, progress=progress)
            doc = result.document
            return {"document": doc.public(), "status": result.status, "pages": doc.pages, "chunks": doc.chunks,
                    "warnings": warnings(doc)}
        try:
            job = runner(request.app).submit("ingest", name, work)
        except JobsBusy as e:
            raise ApiError(503, "busy", f"The server is busy: {e}; try again shortly.") from None
        return JSONResponse({"job": job.public()}, status_code=202, headers={"Location": f"/api/jobs/{job.id}"})
    result = await run_in_threadpool(ingest_upload, services, user["name"], name, data)
    body = {"document": result.document.public(), "status": result.status, "warnings": warnings(result.document)}
    return JSONResponse(body, status_code=200 if result.status == "unchanged" else 201)


@router.get("/api/documents")
def list_documents(store: StoreDep):
    return {"documents": [d.public() for d in store.list_documents()]}


@router.get("/api/documents/{document_id}")
def get_document(document_id: str, store: StoreDep):
    doc = store.get_document(document_id)
    if doc is None:
        raise ApiError(404, "not_found", f"No document with id {document_id!r}.")
    chunks = [{"chunk_id": c.id, "page": c.page, "section": c.section, "start": c.start, "end": c.end,
               "text": c.text} for c in store.document_chunks(document_id)]
    return {"document": doc.public(), "text": doc.text, "chunks": chunks}


@router.delete("/api/documents/{document_id}")
def delete_document(document_id: str, services: ServicesDep, user: dict = require_role("admin")):
    doc = services.store.get_document(document_id)
    if doc is None or not services.store.delete_document(document_id):
        raise ApiError(404, "not_found", f"No document with id {document_id!r}.")
    audit.record(services.database, user["name"], "document.delete", "document", document_id,
                 {"title": doc.title, "filename": doc.filename, "sha256": doc.sha256, "version": doc.version})
    return {"deleted": document_id}


@router.get("/documents")
def documents_page(request: Request, store: StoreDep):
    documents = store.list_documents()
    kinds = [k for k in KINDS if any(d.kind == k for d in documents)]
    return render(request, "documents.html", documents=documents, kinds=kinds,
                  limit_mb=request.app.state.settings.upload_limit_mb)
