"""Background jobs: long work (an upload's parse, OCR and embedding) runs in a bounded thread pool
while the request that started it returns at once; callers poll a job's progress and result.

A job is a function of one argument, `progress(stage, done, total)`, that returns a JSON-ready
dict. Its failure is kept as {"code", "message", "status"}; the work itself must be all-or-nothing
(ingest_bytes is), so a failed job leaves nothing behind. An upload's parse, OCR and embedding run
in a bounded ingest worker process (assistant/core/ingest_worker.py); this thread waits for it and
relays its progress.
"""
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ingest.model import IngestError

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
Work = Callable[[Progress], dict]

# Where each stage sits on the progress bar: (first percent, last percent).
STAGE_SPAN = {"queued": (0, 0), "parse": (2, 10), "ocr": (10, 50), "embed": (50, 95), "store": (95, 99),
              "done": (100, 100)}


class JobsBusy(Exception):
    """More jobs are waiting than the runner accepts."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def error_status(code: str) -> int:
    """The HTTP status an ingest error gets, the same as a synchronous upload's (web/errors.py)."""
    return 413 if code in ("too_large", "too_costly") else 415 if code == "unsupported_type" else 422


@dataclass
class Job:
    id: str
    kind: str
    label: str
    state: str = "queued"  # queued | running | done | failed
    stage: str = "queued"
    pages: int = 0
    chunks: int = 0
    done: int = 0
    total: int = 0
    result: dict | None = None
    error: dict | None = None
    created_at: str = field(default_factory=_now)
    finished_at: str | None = None

    @property
    def percent(self) -> int:
        low, high = STAGE_SPAN.get(self.stage, (0, 0))
        return low + (high - low) * self.done // self.total if self.total else low

    def public(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label, "state": self.state, "stage": self.stage,
                "done": self.done, "total": self.total, "pages": self.pages, "chunks": self.chunks,
                "percent": self.percent, "result": self.result,
                "error": self.error, "created_at": self.created_at, "finished_at": self.finished_at}


class JobRunner:
    """A fixed number of worker threads, at most `max_waiting` jobs queued, the last `keep` jobs kept."""

    def __init__(self, workers: int = 1, max_waiting: int = 20, keep: int = 200):
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="kvsp-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.max_waiting, self.keep = max_waiting, keep

    def submit(self, kind: str, label: str, work: Work) -> Job:
        with self._lock:
            if sum(j.state == "queued" for j in self._jobs.values()) >= self.max_waiting:
                raise JobsBusy(f"{self.max_waiting} jobs are already waiting")
            job = Job(id=uuid.uuid4().hex[:16], kind=kind, label=label)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:  # forget the oldest finished job first
                old = next((k for k, j in self._jobs.items() if j.state in ("done", "failed")), None)
                if old is None:
                    break
                del self._jobs[old]
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, work: Work) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            job.stage, job.done, job.total = stage, done, total
            if stage == "ocr":
                job.pages = total
            elif stage == "embed":
                job.chunks = total

        job.state, job.stage = "running", "parse"
        try:
            job.result = work(progress)
            job.pages = job.result.get("pages", job.pages)  # a result may tell what it finally counted
            job.chunks = job.result.get("chunks", job.chunks)
            job.state, job.stage, job.done, job.total = "done", "done", 0, 0
        except IngestError as e:
            job.error = {"code": e.code, "message": e.message, "status": error_status(e.code)}
            job.state = "failed"
        except Exception:  # noqa: BLE001 — a job's crash is reported on the job, never lost in a thread
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.error = {"code": "internal_error", "message": "Internal error; the server log has details.",
                         "status": 500}
            job.state = "failed"
        finally:
            job.finished_at = _now()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
