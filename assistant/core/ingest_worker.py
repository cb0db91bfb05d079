"""Parse, chunk and embed uploads in separate, bounded processes, so the serving process only stores.

A worker is a fresh interpreter (`python -m assistant.core.ingest_worker`, never a fork of a
process that holds threads, FAISS and SQLite) in a session of its own, talking over two pipes:
it receives (settings, filename, bytes), sends progress messages, and answers with a
PreparedDocument or a refusal. The parent watches the whole session (the worker and its tesseract
processes) while it works: over the memory, CPU or wall-clock limit of the settings, the session
is killed and the file refused in Albanian; a worker that dies is a clear error too. Either way
nothing was stored, since storing happens in the parent after a worker's answer.

A worker stays warm between files (the embedding model, torch included past 40 passages, is
loaded once), is replaced after `ingest_worker_files` files or any failure, and leaves by itself
after `ingest_worker_idle_seconds` without work, handing its memory back.
"""
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from dataclasses import dataclass
from multiprocessing.connection import Connection

from assistant.core.preparation import PreparedDocument, Progress, prepare_document
from assistant.core.process_usage import session_usage
from assistant.core.settings import ROOT, Settings
from ingest.model import IngestError

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.1  # how often a working worker's memory and time are read
IDLE_MARGIN = 0.8  # a worker idle for this share of its idle time is not reused: it may be leaving


@dataclass(frozen=True)
class WorkerLimits:
    memory_mb: float
    cpu_seconds: float
    timeout_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> "WorkerLimits":
        return cls(settings.ingest_memory_mb, settings.ingest_cpu_seconds, settings.ingest_timeout_seconds)


def _worker_env() -> dict[str, str]:
    """The parent's environment, with this code first on the path whatever the working directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


class IngestWorker:
    """One child process, used by one caller at a time."""

    def __init__(self, idle_seconds: float):
        child_in, parent_out = os.pipe()
        parent_in, child_out = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "assistant.core.ingest_worker", str(child_in), str(child_out),
                 str(idle_seconds)],
                pass_fds=(child_in, child_out), start_new_session=True, env=_worker_env(), stdin=subprocess.DEVNULL)
        except BaseException:
            for fd in (parent_in, parent_out):
                os.close(fd)
            raise
        finally:
            os.close(child_in)
            os.close(child_out)
        self._inbox = Connection(parent_in, writable=False)
        self._outbox = Connection(parent_out, readable=False)
        self.files = 0
        self.healthy = True
        self.last_used = time.monotonic()

    def alive(self) -> bool:
        return self.healthy and self.proc.poll() is None

    def prepare(self, settings: Settings, filename: str, data: bytes, limits: WorkerLimits,
                progress: Progress | None) -> PreparedDocument:
        self.files += 1
        try:
            return self._watch(settings, filename, data, limits, progress)
        except IngestError:
            raise  # a reader's refusal leaves the worker well; a kill or a death marked it unhealthy
        except BaseException:  # interrupted mid-file: its answer must never reach the next caller
            self.kill()
            raise
        finally:
            self.last_used = time.monotonic()

    def _watch(self, settings, filename, data, limits, progress) -> PreparedDocument:
        before = session_usage(self.proc.pid)
        started = time.monotonic()
        try:
            self._outbox.send(("prepare", settings, filename, data))
        except OSError:
            raise self._died(filename) from None
        while True:
            self._check(before, started, limits, filename)
            try:
                if not self._inbox.poll(WATCH_SECONDS):
                    continue
                message = self._inbox.recv()
            except (EOFError, OSError):
                raise self._died(filename) from None
            kind, *body = message
            if kind == "progress":
                if progress:
                    progress(*body)
            elif kind == "done":
                return body[0]
            elif kind == "refused":
                raise IngestError(*body)
            else:  # "failed": an unexpected exception in a reader, its traceback sent along
                self.healthy = False
                log.error("ingest worker failed on %s:\n%s", filename, body[0])
                raise IngestError("worker_failed", f"{filename}: skedari nuk u lexua dot (gabim gjatë leximit); "
                                                   f"nuk u ruajt asgjë.")

    def _check(self, before, started: float, limits: WorkerLimits, filename: str) -> None:
        now = session_usage(self.proc.pid)
        if now.rss_mb > limits.memory_mb:
            self.kill()
            raise IngestError("too_costly", f"{filename}: leximi i skedarit kërkoi më shumë se "
                                            f"{limits.memory_mb:.0f} MB kujtesë dhe u ndërpre; nuk u ruajt asgjë. "
                                            f"Ndajeni në pjesë më të vogla.")
        spent = now.cpu_seconds - before.cpu_seconds
        elapsed = time.monotonic() - started
        if spent > limits.cpu_seconds or elapsed > limits.timeout_seconds:
            self.kill()
            seconds = limits.cpu_seconds if spent > limits.cpu_seconds else limits.timeout_seconds
            what = "kohë procesori" if spent > limits.cpu_seconds else "kohë"
            raise IngestError("too_slow", f"{filename}: leximi i skedarit kërkoi më shumë se {seconds:.0f} "
                                          f"sekonda {what} dhe u ndërpre; nuk u ruajt asgjë. "
                                          f"Ndajeni në pjesë më të vogla.")

    def _died(self, filename: str) -> IngestError:
        code = self.proc.wait()
        self.healthy = False
        how = f"u ndal nga sinjali {-code}" if code < 0 else f"doli me kodin {code}"
        return IngestError("worker_failed", f"{filename}: procesi që lexon skedarin {how} pa dhënë përgjigje; "
                                            f"nuk u ruajt asgjë. Provoni përsëri.")

    def kill(self) -> None:
        """The worker's whole session: the worker and any tesseract it started."""
        self.healthy = False
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self) -> None:
        """Ask an idle worker to leave (end of its input), then make sure it did."""
        for connection in (self._outbox, self._inbox):
            connection.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


def _stop_all(workers: list[IngestWorker]) -> None:
    while workers:
        workers.pop().stop()


class IngestWorkers:
    """At most `ingest_worker_processes` workers at once; a caller beyond waits its turn."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.limits = WorkerLimits.of(settings)
        self._idle: list[IngestWorker] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, settings.ingest_worker_processes))
        weakref.finalize(self, _stop_all, self._idle)  # also at interpreter exit

    def prepare(self, filename: str, data: bytes, progress: Progress | None = None) -> PreparedDocument:
        with self._slots:
            worker = self._take()
            try:
                return worker.prepare(self.settings, filename, data, self.limits, progress)
            finally:
                self._give_back(worker)

    def _take(self) -> IngestWorker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                fresh = time.monotonic() - worker.last_used < IDLE_MARGIN * self.settings.ingest_worker_idle_seconds
                if worker.alive() and fresh:
                    return worker
                worker.stop()
        return IngestWorker(self.settings.ingest_worker_idle_seconds)

    def _give_back(self, worker: IngestWorker) -> None:
        if worker.alive() and worker.files < self.settings.ingest_worker_files:
            with self._lock:
                self._idle.append(worker)
        else:
            worker.stop()

    def stop(self) -> None:
        """Stop the idle workers (a later file starts a new one)."""
        with self._lock:
            _stop_all(self._idle)


# ---- the worker process --------------------------------------------------------------------------

class _Embedders:
    """The one embedder a worker keeps loaded, rebuilt only when a file's settings name another."""

    def __init__(self):
        self._key, self._embedder = None, None

    def get(self, settings: Settings):
        from assistant.search.embedder import make_embedder

        key = (settings.embedder, str(settings.data_dir.resolve()))
        if key != self._key:
            self._key, self._embedder = None, None  # let the old model go before the new one loads
            self._embedder, self._key = make_embedder(settings), key
        return self._embedder


def _answer(settings: Settings, filename: str, data: bytes, embedders: _Embedders, progress: Progress) -> tuple:
    try:
        return ("done", prepare_document(settings, embedders.get(settings), filename, data, progress))
    except IngestError as e:
        return ("refused", e.code, e.message)
    except Exception:  # noqa: BLE001 — the parent logs it and refuses the file; this worker is replaced
        return ("failed", traceback.format_exc())


def _leave_with_parent(parent: int) -> None:
    """A worker whose server is gone stops at once, even mid-file: nobody will store its answer."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def main(argv: list[str]) -> None:
    threading.Thread(target=_leave_with_parent, args=(os.getppid(),), daemon=True).start()
    inbox = Connection(int(argv[0]), writable=False)
    outbox = Connection(int(argv[1]), readable=False)
    idle_seconds = float(argv[2])
    embedders, sending = _Embedders(), threading.Lock()  # OCR reports progress from its threads

    def progress(stage: str, done: int, total: int) -> None:
        with sending:
            outbox.send(("progress", stage, done, total))

    while inbox.poll(idle_seconds):
        try:
            _, settings, filename, data = inbox.recv()
        except EOFError:  # the parent stopped this worker, or is gone
            return
        answer = _answer(settings, filename, data, embedders, progress)
        with sending:
            outbox.send(answer)


if __name__ == "__main__":
    main(sys.argv[1:])
