"""The long-lived objects of a running product, built once per process."""
from dataclasses import dataclass

from assistant.core.settings import Settings


@dataclass
class Services:
    settings: Settings
    store: "object"
    embedder: "object"
    retriever: "object"
