"""Search: the hybrid retriever over the API and a first page."""
from fastapi import APIRouter, Query, Request

from web.deps import ServicesDep
from web.pages import render

router = APIRouter()


def search_results(services, q: str, k: int, kind: str | None) -> list[dict]:
    hits = services.retriever.search(q, k=k, kind=kind or None) if q.strip() else []
    return [{"chunk_id": h.chunk.id, "document_id": h.chunk.document_id, "title": h.chunk.title,
             "kind": h.chunk.kind, "page": h.chunk.page, "section": h.chunk.section, "start": h.chunk.start,
             "end": h.chunk.end, "text": h.chunk.text, "score": round(h.score, 4)} for h in hits]


@router.get("/api/search")
def api_search(services: ServicesDep, q: str = Query(..., max_length=2000), k: int = Query(10, ge=1, le=100),
               kind: str | None = None):
    return {"results": search_results(services, q, k, kind)}


@router.get("/search")
def search_page(request: Request, services: ServicesDep, q: str = "", k: int = 10):
    return render(request, "search.html", q=q, results=search_results(services, q, min(max(k, 1), 50), None))
