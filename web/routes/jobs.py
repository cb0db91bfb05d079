"""Background jobs of this process: their progress and result (uploads started from the page)."""
import threading

from fastapi import APIRouter, FastAPI, Request

from assistant.core.jobs import JobRunner
from web.deps import CurrentUser
from web.errors import ApiError

router = APIRouter()
_lock = threading.Lock()


def runner(app: FastAPI) -> JobRunner:
    """The app's one job runner, made on first use so that an app that never uploads starts no threads."""
    with _lock:
        if getattr(app.state, "jobs", None) is None:
            app.state.jobs = JobRunner(workers=app.state.settings.job_workers)
        return app.state.jobs


@router.get("/api/jobs/{job_id}")
def get_job(job_id: str, request: Request, user: CurrentUser):
    job = runner(request.app).get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"No job with id {job_id!r}.")
    return {"job": job.public()}
