"""FAISS index chosen by size: exact inner-product search while it is fast enough, IVF beyond.

Vectors are L2-normalised, so inner product is cosine similarity.
"""
import os
from pathlib import Path

import faiss
import numpy as np

# Exact search costs ~0.1 ms per 1k chunks on one core (bench/scale.py: 8 ms p50 / 10 ms p95 at
# 100k), so it serves up to here with room left for the lexical side; IVF beyond.
EXACT_LIMIT = 50_000
# Lists probed per query. At 100k chunks (903 lists) recall against exact search was 0.86 @10 /
# 0.83 @50 with 24 lists, 0.96 / 0.94 with 64 and 0.99 / 0.98 with 128, at 0.3, 0.9 and 1.7 ms.
IVF_NPROBE = 128
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
    """True when the index type no longer suits the collection size (crossing EXACT_LIMIT), or when
    an IVF index has outgrown its training: its lists are retrained once the collection calls for
    twice as many (four times the chunks), so lists do not grow without bound."""
    if is_exact(index) != (new_count <= EXACT_LIMIT):
        return True
    return not is_exact(index) and _ivf_lists(new_count) >= 2 * faiss.extract_index_ivf(index).nlist


def add(index, vectors: np.ndarray, ids: np.ndarray) -> None:
    _bulk_threads()
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)


def remove(index, ids: list[int]) -> None:
    index.remove_ids(np.array(ids, dtype=np.int64))


def ids(index) -> np.ndarray:
    """The ids the index holds, sorted (to compare with the database's chunks)."""
    if index is None:
        return np.zeros(0, dtype=np.int64)
    if is_exact(index):
        return np.sort(faiss.vector_to_array(index.id_map))
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(ivf.nlist) if lists.list_size(i)]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


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
