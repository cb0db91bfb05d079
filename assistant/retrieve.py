"""Hybrid retrieval: BM25 over Albanian-normalised tokens plus dense e5 vectors, fused.

Two fusion methods are kept because bench/retrieval.py compares them side by side:
`linear` (min-max normalised BM25 weighted with cosine; the default, see README) and
`rrf` (reciprocal rank fusion).
"""
from dataclasses import dataclass

import numpy as np

from assistant.albanian import lexical_tokens
from assistant.store.base import ChunkRecord, Store

CANDIDATES = 50  # per retriever, before fusion
RRF_K = 60
LEXICAL_WEIGHT = 0.4


@dataclass
class Hit:
    chunk: ChunkRecord
    score: float
    lexical: float | None = None  # raw BM25
    dense: float | None = None  # cosine similarity


def _minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo or 1.0
    return {i: (s - lo) / span for i, s in scores.items()}


def fuse_linear(lexical: dict[int, float], dense: dict[int, float], weight: float = LEXICAL_WEIGHT) -> dict[int, float]:
    # BM25 is min-max scaled within the query; cosine is already on a fixed scale.
    lex = _minmax(lexical)
    return {i: weight * lex.get(i, 0.0) + (1 - weight) * dense.get(i, 0.0) for i in set(lex) | set(dense)}


def fuse_rrf(lexical: dict[int, float], dense: dict[int, float], k: int = RRF_K) -> dict[int, float]:
    fused: dict[int, float] = {}
    for scores in (lexical, dense):
        for rank, i in enumerate(sorted(scores, key=scores.get, reverse=True)):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank + 1)
    return fused


class Retriever:
    def __init__(self, store: Store, embedder, mode: str = "hybrid", fusion: str = "linear"):
        self.store, self.embedder, self.mode, self.fusion = store, embedder, mode, fusion

    def lexical(self, query: str, n: int, kind=None, document_id=None) -> dict[int, float]:
        tokens = lexical_tokens(query, expand_glossary=True)
        return dict(self.store.lexical_search(tokens, n, kind=kind, document_id=document_id))

    def dense(self, query: str, n: int, kind=None, document_id=None) -> dict[int, float]:
        vector = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        return dict(self.store.dense_search(vector, n, kind=kind, document_id=document_id))

    def search(self, query: str, k: int = 10, kind: str | None = None, document_id: str | None = None,
               mode: str | None = None) -> list[Hit]:
        mode = mode or self.mode
        n = max(CANDIDATES, k)
        lexical = self.lexical(query, n, kind, document_id) if mode in ("hybrid", "lexical") else {}
        dense = self.dense(query, n, kind, document_id) if mode in ("hybrid", "dense") else {}
        if mode == "lexical":
            fused = lexical
        elif mode == "dense":
            fused = dense
        elif self.fusion == "rrf":
            fused = fuse_rrf(lexical, dense)
        else:
            fused = fuse_linear(lexical, dense)
        best = sorted(fused, key=fused.get, reverse=True)[:k]
        chunks = {c.id: c for c in self.store.get_chunks(best)}
        return [Hit(chunks[i], fused[i], lexical.get(i), dense.get(i)) for i in best if i in chunks]
