"""BM25 over the chunks' lexical strings, held in memory, changed in place of being rebuilt.

It scores exactly as SQLite's FTS5 `bm25()` (fts5_aux.c) scores the same rows: k1 = 1.2, b = 0.75,
idf = log((N - df + 0.5) / (df + 0.5)) with values <= 0 raised to 1e-6, a row's length the number
of its tokens, the same floating-point operations in the same order. Ranking 100k chunks takes a
few milliseconds where the FTS5 query took tens to hundreds. The lexical strings are already
normalised (space-separated [a-z0-9]+ tokens), so splitting on spaces gives FTS5's tokens.

A write changes the index without rebuilding it: the new rows become a segment of their own and
removed rows are marked dead (tombstones). N, the total length and each term's df count live
rows only, and a posting's BM25 part is computed at query time from its term frequency, so the
scores are those of an index built afresh over the live rows. Small segments are merged as they
come (a segment is merged into the one before it once it is a quarter of its size), so a write
costs about the size of the written document and there are only a few segments. `changed`
returns a new index: a search running meanwhile keeps reading the one it started with.
"""
import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

import numpy as np

K1, B, IDF_FLOOR = 1.2, 0.75, 1e-6  # FTS5's constants (the PostgreSQL store uses the same)
BATCH = 4_000  # rows tokenised at a time: bounds the memory of the token strings
MERGE_RATIO = 4  # a segment joins the one before it once it holds a quarter of that one's live rows


@dataclass(frozen=True)
class Segment:
    """Rows in ascending id order and the postings of every term known when it was made (term-major,
    row positions ascending within a term)."""
    ids: np.ndarray  # int64, ascending
    lengths: np.ndarray  # float64 tokens per row
    offsets: np.ndarray  # postings of term t: offsets[t]:offsets[t + 1]
    rows: np.ndarray  # int32 row positions
    tf: np.ndarray  # float64 term frequencies
    alive: np.ndarray  # bool per row
    live: int  # rows alive

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """Live row positions and term frequencies of `term` (a term newer than the segment has none)."""
        if term + 1 >= len(self.offsets):
            return self.rows[:0], self.tf[:0]
        a, b = self.offsets[term], self.offsets[term + 1]
        rows, tf = self.rows[a:b], self.tf[a:b]
        if self.live < len(self.ids):
            keep = self.alive[rows]
            rows, tf = rows[keep], tf[keep]
        return rows, tf


def _segment(ids: np.ndarray, lengths: np.ndarray, terms: np.ndarray, rows: np.ndarray, tf: np.ndarray,
             n_terms: int) -> Segment:
    """A segment from postings already sorted term-major, rows ascending within a term."""
    offsets = np.concatenate([[0], np.cumsum(np.bincount(terms, minlength=n_terms))]).astype(np.int64)
    return Segment(ids, lengths, offsets, rows.astype(np.int32), tf.astype(np.float64),
                   np.ones(len(ids), dtype=bool), len(ids))


def _merge(segments: list[Segment], n_terms: int) -> Segment:
    """One segment of the live rows of `segments` (whose ids do not overlap among live rows)."""
    ids = np.concatenate([s.ids[s.alive] for s in segments])
    lengths = np.concatenate([s.lengths[s.alive] for s in segments])
    order = np.argsort(ids, kind="stable")
    ids, lengths = ids[order], lengths[order]
    terms, rows, tf = [], [], []
    for s in segments:
        term = np.repeat(np.arange(len(s.offsets) - 1), np.diff(s.offsets))
        keep = s.alive[s.rows]
        terms.append(term[keep])
        rows.append(np.searchsorted(ids, s.ids[s.rows[keep]]))
        tf.append(s.tf[keep])
    terms, rows, tf = np.concatenate(terms), np.concatenate(rows), np.concatenate(tf)
    order = np.lexsort((rows, terms))
    return _segment(ids, lengths, terms[order], rows[order], tf[order], n_terms)


class LexicalIndex:
    """Segments of rows with their postings; BM25 statistics over the live rows of all of them."""

    def __init__(self, rows: Iterable[tuple[int, str]] = ()):
        """`rows`: (chunk id, lexical string) in ascending id order."""
        self.vocab: dict[str, int] = {}  # only grows; shared by the changed copies
        self.segments: list[Segment] = []
        self.n, self.total = 0, 0  # live rows, and their tokens
        self._add(rows)

    def _build(self, rows: Iterable[tuple[int, str]]) -> Segment | None:
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
        if not ids:
            return None
        ids = np.concatenate(ids)
        if np.any(np.diff(ids) <= 0):
            raise ValueError("rows must come in ascending chunk id order")
        n_terms = len(self.vocab)
        df = sum((np.bincount(t, minlength=n_terms) for t, _, _ in batches), np.zeros(n_terms, int))
        offsets = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        out_rows = np.empty(offsets[-1], dtype=np.int32)
        out_tf = np.empty(offsets[-1], dtype=np.float64)
        cursor = offsets[:-1].copy()
        batches.reverse()  # popped in order, each freed once placed
        while batches:  # batch after batch, rows ascending within a term: postings stay sorted
            t, r, tf = batches.pop()
            at = cursor[t] + np.arange(len(t)) - np.searchsorted(t, t)
            out_rows[at] = r
            out_tf[at] = tf
            cursor += np.bincount(t, minlength=n_terms)
        return Segment(ids, np.concatenate(lengths).astype(np.float64), offsets, out_rows, out_tf,
                       np.ones(len(ids), dtype=bool), len(ids))

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

    # ---- changing ------------------------------------------------------------------------
    def changed(self, remove: Iterable[int] = (), add: Iterable[tuple[int, str]] = ()) -> "LexicalIndex":
        """A new index without the rows of the `remove` ids and with the `add` rows (ascending ids),
        as a fresh build over the resulting rows would be; this one is left as it was."""
        out = copy.copy(self)  # shares the vocabulary and the segments it does not change
        out.segments = list(self.segments)
        out._remove(np.fromiter(remove, dtype=np.int64))
        out._add(add)
        return out

    def _remove(self, ids: np.ndarray) -> None:
        if not len(ids):
            return
        for i, s in enumerate(self.segments):
            at = np.searchsorted(s.ids, ids).clip(max=len(s.ids) - 1)
            at = at[(s.ids[at] == ids) & s.alive[at]]
            if len(at):
                alive = s.alive.copy()  # copy on write: a running search keeps the old mask
                alive[at] = False
                self.n -= len(at)
                self.total -= int(s.lengths[at].sum())
                self.segments[i] = Segment(s.ids, s.lengths, s.offsets, s.rows, s.tf, alive, s.live - len(at))
        self.segments = [s for s in self.segments if s.live]

    def _add(self, rows: Iterable[tuple[int, str]]) -> None:
        segment = self._build(rows)
        if segment is None:
            return
        self.n += segment.live
        self.total += int(segment.lengths.sum())
        self.segments.append(segment)
        while len(self.segments) > 1 and self.segments[-1].live * MERGE_RATIO >= self.segments[-2].live:
            last = self.segments.pop()
            self.segments[-1] = _merge([self.segments[-1], last], len(self.vocab))

    # ---- reading -------------------------------------------------------------------------
    @property
    def ids(self) -> np.ndarray:
        """The live rows' chunk ids, ascending."""
        return np.sort(np.concatenate([s.ids[s.alive] for s in self.segments] or [np.zeros(0, np.int64)]))

    def df(self, term: str) -> int:
        i = self.vocab.get(term)
        return 0 if i is None else sum(len(s.postings(i)[0]) for s in self.segments)

    def idf(self, df: int) -> float:
        idf = math.log((self.n - df + 0.5) / (df + 0.5))
        return idf if idf > 0.0 else IDF_FLOOR

    def search(self, tokens: Iterable[str], k: int, allowed: Iterable[int] | None = None) -> list[tuple[int, float]]:
        """The k best chunks for the tokens as (chunk id, BM25), best first, ties by id; only chunks
        in `allowed` when it is given. Tokens in more than half the chunks weigh ~0 but have the
        longest postings: they are left out unless the other tokens find fewer than k chunks."""
        if k <= 0:
            return []
        postings = {t: [s.postings(self.vocab[t]) for s in self.segments] for t in sorted(set(tokens))
                    if t in self.vocab}
        df = {t: sum(len(rows) for rows, _ in p) for t, p in postings.items()}
        terms = [t for t in postings if df[t]]  # sorted
        if not terms:
            return []
        allowed = None if allowed is None else np.fromiter(allowed, dtype=np.int64)
        telling = [t for t in terms if df[t] <= self.n / 2]
        hits = self._rank(telling, postings, df, k, allowed) if telling else []
        if len(hits) < k and len(telling) < len(terms):
            hits = self._rank(terms, postings, df, k, allowed)
        return hits

    def _rank(self, terms: list[str], postings: dict, df: dict, k: int,
              allowed: np.ndarray | None) -> list[tuple[int, float]]:
        avgdl = float(self.total) / self.n
        found_ids, found_scores = [], []
        for i, s in enumerate(self.segments):
            rows, parts = [], []
            for t in terms:  # sorted, as FTS5 adds up the query's phrases in order: bit-identical sums
                r, tf = postings[t][i]
                # fts5Bm25Function: idf * (f * (k1 + 1.0)) / (f + k1 * (1 - b + b * D / avgdl))
                norm = K1 * (1 - B + B * s.lengths[r] / avgdl)
                rows.append(r)
                parts.append(self.idf(df[t]) * ((tf * (K1 + 1.0)) / (tf + norm)))
            scores = np.bincount(np.concatenate(rows), weights=np.concatenate(parts), minlength=len(s.ids))
            if allowed is not None:
                at = np.searchsorted(s.ids, allowed).clip(max=len(s.ids) - 1)
                mask = np.zeros(len(s.ids), dtype=bool)
                mask[at[s.ids[at] == allowed]] = True
                scores[~mask] = 0.0
            found = np.flatnonzero(scores)  # every live posting adds > 0, dead rows have none
            found_ids.append(s.ids[found])
            found_scores.append(scores[found])
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        if len(ids) > k:
            kth = np.partition(scores, len(ids) - k)[len(ids) - k]
            keep = scores >= kth
            ids, scores = ids[keep], scores[keep]
        best = np.lexsort((ids, -scores))[:k]
        return [(int(ids[i]), float(scores[i])) for i in best]
