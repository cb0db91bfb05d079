"""BM25 over the chunks' lexical strings, held in memory.

It scores exactly as SQLite's FTS5 `bm25()` (fts5_aux.c) scores the same rows: k1 = 1.2, b = 0.75,
idf = log((N - df + 0.5) / (df + 0.5)) with values <= 0 raised to 1e-6, a row's length the number
of its tokens, the same floating-point operations in the same order. Ranking 100k chunks takes a
few milliseconds where the FTS5 query took tens to hundreds. The lexical strings are already
normalised (space-separated [a-z0-9]+ tokens), so splitting on spaces gives FTS5's tokens.
"""
import math
from collections.abc import Iterable
from itertools import islice

import numpy as np

K1, B, IDF_FLOOR = 1.2, 0.75, 1e-6  # FTS5's constants (the PostgreSQL store uses the same)
BATCH = 4_000  # rows tokenised at a time: bounds the memory of the token strings


class LexicalIndex:
    """Postings of every term (row positions, ascending) with each posting's BM25 term-frequency
    part precomputed. Rows come in ascending chunk id order, so position order is id order."""

    def __init__(self, rows: Iterable[tuple[int, str]]):
        """`rows`: (chunk id, lexical string) in ascending id order."""
        self.vocab: dict[str, int] = {}
        ids, lengths, batches = [], [], []  # batches: each batch's (term, row, tf) postings, term-major
        rows, start = iter(rows), 0
        while batch := list(islice(rows, BATCH)):
            ids.append(np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch)))
            counts, terms = self._tokenise([r[1] for r in batch])
            lengths.append(counts)
            key = terms * len(batch) + np.repeat(np.arange(len(batch)), counts)
            key, tf = np.unique(key, return_counts=True)
            batches.append(((key // len(batch)).astype(np.int32), (key % len(batch) + start).astype(np.int32),
                            tf.astype(np.int32)))
            start += len(batch)
        self.ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        if np.any(np.diff(self.ids) <= 0):
            raise ValueError("rows must come in ascending chunk id order")
        self.n = n = len(self.ids)
        length = np.concatenate(lengths).astype(np.float64) if lengths else np.zeros(0)
        df = sum((np.bincount(t, minlength=len(self.vocab)) for t, _, _ in batches), np.zeros(len(self.vocab), int))
        self.offsets = np.concatenate([[0], np.cumsum(df)])
        self.rows = np.empty(self.offsets[-1], dtype=np.int32)
        self.weights = np.empty(self.offsets[-1], dtype=np.float64)
        # fts5Bm25Function: (f * (k1 + 1.0)) / (f + k1 * (1 - b + b * D / avgdl)), here without the idf
        norm = K1 * (1 - B + B * length / (float(length.sum()) / n if n else 1.0))
        cursor = self.offsets[:-1].copy()
        batches.reverse()  # popped in order, each freed once placed
        while batches:  # batch after batch, rows ascending within a term: postings stay sorted
            t, r, tf = batches.pop()
            tf = tf.astype(np.float64)
            at = cursor[t] + np.arange(len(t)) - np.searchsorted(t, t)
            self.rows[at] = r
            self.weights[at] = (tf * (K1 + 1.0)) / (tf + norm[r])
            cursor += np.bincount(t, minlength=len(self.vocab))

    def _tokenise(self, lexes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Tokens per string, and the term ids of all tokens in order (adding new terms)."""
        joined = " ".join(lexes)
        tokens = joined.split()  # one split of the batch: ~2x faster than splitting each string
        counts = np.fromiter((s.count(" ") + 1 if s else 0 for s in lexes), dtype=np.int64, count=len(lexes))
        # Counting spaces overcounts only doubled or outer spaces, and is exact when the space is the
        # only separator; if the totals differ, or other whitespace separates, count each string.
        if counts.sum() != len(tokens) or not joined.isprintable():
            counts = np.fromiter((len(s.split()) for s in lexes), dtype=np.int64, count=len(lexes))
        for t in dict.fromkeys(tokens):
            self.vocab.setdefault(t, len(self.vocab))
        return counts, np.fromiter(map(self.vocab.__getitem__, tokens), dtype=np.int64, count=len(tokens))

    def df(self, term: str) -> int:
        i = self.vocab.get(term)
        return 0 if i is None else int(self.offsets[i + 1] - self.offsets[i])

    def idf(self, df: int) -> float:
        idf = math.log((self.n - df + 0.5) / (df + 0.5))
        return idf if idf > 0.0 else IDF_FLOOR

    def search(self, tokens: Iterable[str], k: int, allowed: Iterable[int] | None = None) -> list[tuple[int, float]]:
        """The k best chunks for the tokens as (chunk id, BM25), best first, ties by id; only chunks
        in `allowed` when it is given. Tokens in more than half the chunks weigh ~0 but have the
        longest postings: they are left out unless the other tokens find fewer than k chunks."""
        terms = sorted({t for t in tokens if t in self.vocab})
        if not terms or k <= 0:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(self.n, dtype=bool)
            wanted = np.fromiter(allowed, dtype=np.int64)
            at = np.searchsorted(self.ids, wanted).clip(max=self.n - 1)
            mask[at[self.ids[at] == wanted]] = True
        telling = [t for t in terms if self.df(t) <= self.n / 2]
        hits = self._rank(telling, k, mask) if telling else []
        if len(hits) < k and len(telling) < len(terms):
            hits = self._rank(terms, k, mask)
        return hits

    def _rank(self, terms: list[str], k: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        rows, parts = [], []
        for t in terms:  # sorted, as FTS5 adds up the query's phrases in order: bit-identical sums
            a, b = self.offsets[self.vocab[t]], self.offsets[self.vocab[t] + 1]
            rows.append(self.rows[a:b])
            parts.append(self.idf(int(b - a)) * self.weights[a:b])
        scores = np.bincount(np.concatenate(rows), weights=np.concatenate(parts), minlength=self.n)
        if mask is not None:
            scores[~mask] = 0.0
        found = np.flatnonzero(scores)  # every posting adds > 0
        if len(found) > k:
            kth = np.partition(scores[found], len(found) - k)[len(found) - k]
            found = found[scores[found] >= kth]
        best = found[np.lexsort((found, -scores[found]))][:k]
        return [(int(self.ids[i]), float(scores[i])) for i in best]
