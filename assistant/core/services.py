"""The long-lived objects of a running product, built once per process."""
import threading
from dataclasses import dataclass, field

from assistant.core.settings import Settings


@dataclass
class Services:
    settings: Settings
    store: "object"
    embedder: "object"
    retriever: "object"
    _workers: "object" = field(default=None, init=False, repr=False)
    _workers_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def ingest_workers(self):
        """The bounded processes that parse and embed files for this process, started on first use."""
        from assistant.core.ingest_worker import IngestWorkers

        with self._workers_lock:
            if self._workers is None:
                self._workers = IngestWorkers(self.settings)
            return self._workers

    def stop_workers(self) -> None:
        """Stop idle ingest workers now rather than when they time out (tests, the end of a command)."""
        with self._workers_lock:
            if self._workers is not None:
                self._workers.stop()

    @property
    def database(self):
        """The store's database, where accounts, the audit log and the plan live too: the data
        folder's SQLite file, or the PostgreSQL of KVSP_DATABASE_URL that every host shares."""
        return self.store.database
