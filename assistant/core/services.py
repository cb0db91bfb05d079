"""The long-lived objects of a running product, built once per process."""
from dataclasses import dataclass

from assistant.core.settings import Settings
from assistant.store.database import DB_FILE, Database, open_database


@dataclass
class Services:
    settings: Settings
    store: "object"
    embedder: "object"
    retriever: "object"

    @property
    def database(self) -> Database:
        """The data folder's SQLite database (accounts, audit log, plan; the store's too with SQLite)."""
        return open_database(self.settings.data_dir / DB_FILE)
