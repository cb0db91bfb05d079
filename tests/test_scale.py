"""The growth benchmark's corpus and the FAISS index chosen by size (bench/scale.py measures both)."""
import numpy as np

from assistant.store import vector_index


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(40, dim))
    x = centers[rng.integers(0, 40, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_index_below_the_limit_ivf_above_and_it_finds_what_exact_finds(monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_LIMIT", 1000)
    vectors, ids = clustered(3000), np.arange(3000, dtype=np.int64) + 7
    small = vector_index.build(vectors[:800], ids[:800])
    ivf = vector_index.build(vectors, ids)
    assert vector_index.is_exact(small) and not vector_index.is_exact(ivf)

    flat = vectors @ vectors[:50].T  # exact inner products of 50 queries
    recall = []
    for q in range(50):
        truth = set(ids[np.argsort(-flat[:, q])[:10]].tolist())
        found = {i for i, _ in vector_index.search(ivf, vectors[q], 10)}
        recall.append(len(truth & found) / 10)
    assert np.mean(recall) >= 0.95


def test_ivf_is_retrained_when_the_collection_outgrows_its_lists(monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_LIMIT", 1000)
    ivf = vector_index.build(clustered(3000), np.arange(3000, dtype=np.int64))
    assert not vector_index.needs_rebuild(ivf, 3000)
    assert not vector_index.needs_rebuild(ivf, 6000)
    assert vector_index.needs_rebuild(ivf, 12_000)  # four times the chunks: twice the lists
    assert vector_index.needs_rebuild(ivf, 900)  # back under the limit: exact again


def test_recombined_chunks_go_through_the_real_store(services, fresh_services):
    from assistant.core.preparation import lexical_string
    from bench import scale

    chunks, vectors, kinds = scale.base_corpus(services)
    assert len(chunks) == len(vectors) > 50
    recombiner = scale.Recombiner(chunks, vectors, kinds)
    store = fresh_services.store
    grown = scale.grow(store, recombiner, services.embedder.version, 0, 300, 120, 0)
    assert grown["typical_doc_s"] is not None and grown["chunks_per_s"] > 0
    docs = store.list_documents()
    assert sum(d.chunks for d in docs) == 300
    assert any(d.chunks == scale.TYPICAL_DOC for d in docs)  # the typical document, timed apart

    stored = [c for d in docs for c in store.document_chunks(d.id)]
    real_sentences = {s for c in chunks for s in c.text.split(". ")}
    assert all(c.text and c.text not in {r.text for r in chunks} for c in stored[:20])  # recombined, not copied
    assert any(s in real_sentences for c in stored[:20] for s in c.text.split(". "))  # from real sentences
    # the full-text index holds what ingestion would compute for the same section and text
    for c in stored[:20]:
        lex = store.db.execute("SELECT lex FROM chunks_fts WHERE rowid = ?", (c.id,)).fetchone()[0]
        assert lex == lexical_string(c.section, c.text)
    hits = fresh_services.retriever.search("Çfarë është policimi në komunitet?", k=5)
    assert len(hits) == 5
