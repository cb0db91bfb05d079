"""FAISS index chosen by size: exact inner-product search while it is fast enough, IVF beyond.

Vectors are L2-normalised, so inner product is cosine similarity.
"""
import os
from pathlib import Path

import faiss
import numpy as np

EXACT_LIMIT = 50_000  # flat search stays well under 50 ms p95 on 2 cores up to here (bench/scale.py)
IVF_NPROBE = 24
# One query is searched on one thread: OpenMP workers only add wake-up cost to a single-vector
# scan, and much more on a busy machine (bench/scale.py, 20k flat: 20 ms on 2 threads, 2 ms on 1).
# Bulk work (training, adding a document's vectors) uses every core. OpenMP keeps the setting
# per calling thread, so it is set on each call.
SEARCH_THREADS = 1


def _bulk_threads() -> None:
    faiss.omp_set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())


def _ivf_lists(n: int) -> int:
    return int(4 * np.sqrt(n))


def build(vectors: np.ndarray | None, ids: np.ndarray):
    if vectors is None or len(vectors) == 0:
        return None
    _bulk_threads()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if len(vectors) <= EXACT_LIMIT:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    else:
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, _ivf_lists(len(vectors)), faiss.METRIC_INNER_PRODUCT)
        ivf.train(vectors)
        ivf.nprobe = IVF_NPROBE
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        index = ivf
    index.add_with_ids(vectors, ids)
    return index


def is_exact(index) -> bool:
    return isinstance(index, faiss.IndexIDMap2)


def needs_rebuild(index, new_count: int) -> bool:
    """True when the index type no longer suits the collection size (crossing EXACT_LIMIT)."""
    return is_exact(index) != (new_count <= EXACT_LIMIT)


def add(index, vectors: np.ndarray, ids: np.ndarray) -> None:
    _bulk_threads()
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)


def remove(index, ids: list[int]) -> None:
    index.remove_ids(np.array(ids, dtype=np.int64))


def search(index, vector: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
    faiss.omp_set_num_threads(SEARCH_THREADS)
    query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
    k = min(k, index.ntotal)
    if allowed is None:
        scores, ids = index.search(query, k)
    else:
        selector = faiss.IDSelectorBatch(np.array(allowed, dtype=np.int64))
        params = faiss.SearchParametersIVF(sel=selector, nprobe=IVF_NPROBE) if not is_exact(index) \
            else faiss.SearchParameters(sel=selector)
        scores, ids = index.search(query, min(k, len(allowed)), params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


def read(path: Path):
    index = faiss.read_index(str(path))
    if not is_exact(index):
        faiss.extract_index_ivf(index).nprobe = IVF_NPROBE
    return index


def write(index, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    faiss.write_index(index, str(tmp))
    tmp.replace(path)
