"""The long-lived objects of a running product, built once per process."""
from dataclasses import dataclass

from assistant.core.settings import Settings


@dataclass
class Services:
    settings: Settings
    store: "object"
    embedder: "object"
    retriever: "object"

    @property
    def database(self):
        """The store's database, where accounts, the audit log and the plan live too: the data
        folder's SQLite file, or the PostgreSQL of KVSP_DATABASE_URL that every host shares."""
        return self.store.database
