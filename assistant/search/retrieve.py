"""Hybrid retrieval: BM25 over Albanian-normalised tokens plus dense e5 vectors, fused.

Two fusion methods are kept because bench/retrieval.py compares them side by side:
`linear` (min-max normalised BM25 weighted with cosine; the default, see README) and
`rrf` (reciprocal rank fusion).
"""
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.search.albanian import fold, lexical_tokens
from assistant.store.base import ChunkRecord, Store

CANDIDATES = 50  # per retriever, before fusion
RRF_K = 60
QUERY_VECTORS = 64  # recent queries' vectors kept
LEXICAL_WEIGHT = 0.4
REFERENCE_BONUS = 1.0  # above any fused score: a named article or measure is what was asked for
# Structural references people ask for by number: "Masa 12", "neni 5", "Objektivi specifik 3", "Tabela nr. 1".
REFERENCE = re.compile(r"\b(masa|masen|mases|measure|neni|nenin|nenit|article|objektivi(?: specifik)?|objective"
                       r"|kreu|chapter|tabela(?: nr\.?)?|table)\s+(?:no\.?\s*)?(\d+)\b")
REFERENCE_STEMS = {"measure": "mas", "article": "nen", "objective": "obj", "chapter": "kre", "table": "tab"}


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


def fuse_linear(lexical: dict[int, float], dense: dict[int, float], weight: float | None = None) -> dict[int, float]:
    """Both scores min-max scaled over the candidates of this query, then weighted.

    `dense` must hold the cosine of every candidate (see Retriever.search): e5 cosines sit in a
    narrow band (0.75-0.9), so a chunk missing from the dense list must not count as 0."""
    weight = LEXICAL_WEIGHT if weight is None else weight
    lex, den = _minmax(lexical), _minmax(dense)
    return {i: weight * lex.get(i, 0.0) + (1 - weight) * den.get(i, 0.0) for i in set(lex) | set(den)}


def fuse_rrf(lexical: dict[int, float], dense: dict[int, float], k: int = RRF_K) -> dict[int, float]:
    fused: dict[int, float] = {}
    for scores in (lexical, dense):
        for rank, i in enumerate(sorted(scores, key=scores.get, reverse=True)):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank + 1)
    return fused


class Retriever:
    def __init__(self, store: Store, embedder, mode: str = "hybrid", fusion: str = "linear"):
        self.store, self.embedder, self.mode, self.fusion = store, embedder, mode, fusion
        # the answer reads the query's vector again (a sentence's similarity): embedded once
        self.query_vector = lru_cache(maxsize=QUERY_VECTORS)(self._query_vector)

    def lexical(self, query: str, n: int, kind=None, document_id=None, english: bool = False) -> dict[int, float]:
        tokens = lexical_tokens(query, expand_glossary=True, english=english)
        return dict(self.store.lexical_search(tokens, n, kind=kind, document_id=document_id))

    def _query_vector(self, query: str) -> np.ndarray:
        vector = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        vector.setflags(write=False)  # shared by every caller of the cache
        return vector

    def search(self, query: str, k: int = 10, kind: str | None = None, document_id: str | None = None,
               mode: str | None = None, english: bool = False) -> list[Hit]:
        """`english`: the query is an English question, so its words are translated for the
        lexical side (the dense side is multilingual)."""
        mode = mode or self.mode
        n = max(CANDIDATES, k)
        lexical = self.lexical(query, n, kind, document_id, english) if mode in ("hybrid", "lexical") else {}
        dense: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            vector = self.query_vector(query)
            dense = dict(self.store.dense_search(vector, n, kind=kind, document_id=document_id))
        if mode == "lexical":
            fused = lexical
        elif mode == "dense":
            fused = dense
        elif self.fusion == "rrf":
            fused = fuse_rrf(lexical, dense)
        else:
            missing = [i for i in lexical if i not in dense]
            dense = {**dense, **self.store.dense_scores(vector, missing)}
            fused = fuse_linear(lexical, dense)
        references = referenced(query)
        if references:
            fused = boost_references(fused, references, self.store)
        best = sorted(fused, key=fused.get, reverse=True)[:k]
        chunks = {c.id: c for c in self.store.get_chunks(best)}
        return [Hit(chunks[i], fused[i], lexical.get(i), dense.get(i)) for i in best if i in chunks]


def referenced(query: str) -> list[tuple[str, str]]:
    """(kind stem, number) of the structural references a query names: "Masa 12" -> ("mas", "12")."""
    return [(REFERENCE_STEMS.get(m.group(1), m.group(1)[:3]), m.group(2)) for m in REFERENCE.finditer(fold(query))]


def boost_references(fused: dict[int, float], references, store, pool: int = CANDIDATES) -> dict[int, float]:
    """Lift candidates whose section heading (or opening words) is the referenced article/measure."""
    candidates = sorted(fused, key=fused.get, reverse=True)[:pool]
    boosted = dict(fused)
    for chunk in store.get_chunks(candidates):
        heading = fold(" > ".join(chunk.section[-2:]) + " " + chunk.text[:60])
        for kind, number in references:
            if re.search(rf"\b{kind}\w*\s+(?:nr\.?\s*)?{number}\b", heading):
                boosted[chunk.id] += REFERENCE_BONUS
                break
    return boosted
