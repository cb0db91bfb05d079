"""The in-memory BM25 index scores exactly as SQLite's FTS5 bm25() on the same rows, and the SQLite
store keeps it in step with its chunks."""
import hashlib
import random
import re
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.search.albanian import lexical_tokens
from assistant.store.base import NewChunk
from assistant.store.lexical_index import LexicalIndex
from assistant.store.sqlite import SqliteStore

FIXTURES = Path(__file__).parent / "fixtures"
TEXTS = [FIXTURES / "mekanizmat-ekzistues-kvsp-ocr.txt",
         FIXTURES / "samples" / "shenime-konsultim-publik-lumez-2025-01.txt"]


@pytest.fixture(scope="module")
def fts():
    """An FTS5 table as the store keeps it, over passages of real council text: sentences and
    recombinations of them (repeats make tied scores), most under one heading, ids with gaps."""
    sentences = [s for path in TEXTS for s in re.split(r"[.\n]+", path.read_text(encoding="utf-8"))]
    lexes = [" ".join(lexical_tokens(s)) for s in sentences]
    lexes = [x for x in lexes if x]
    rng = random.Random(3)
    rows = [lexes[i % len(lexes)] if i < 2 * len(lexes) else " ".join(rng.sample(lexes, 3)) for i in range(1500)]
    heading = " ".join(lexical_tokens("Këshilli i Sigurisë Publike"))  # in most chunks, as a section path is
    rows = [f"{heading} {x}" if i % 3 else x for i, x in enumerate(rows)]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(lex, tokenize = 'unicode61')")
    db.executemany("INSERT INTO chunks_fts(rowid, lex) VALUES (?, ?)", [(3 * i + 7, x) for i, x in enumerate(rows)])
    db.execute("INSERT INTO chunks_fts(rowid, lex) VALUES (1, '')")  # an empty chunk counts in N
    yield db
    db.close()


def fts5_search(db, terms: list[str], k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
    """What lexical_search returned when FTS5 ranked: bm25() over the tokens in at most half the
    chunks, over all of them when those find fewer than k."""
    n = db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    df = {t: db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (f'"{t}"',)).fetchone()[0]
          for t in sorted(set(terms))}
    present = [t for t in df if df[t]]
    telling = [t for t in present if df[t] <= n / 2]

    def bm25(ts):
        where = "" if allowed is None else f" AND rowid IN ({','.join(map(str, allowed))})"
        return [tuple(r) for r in db.execute(
            "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?" + where
            + " ORDER BY bm25(chunks_fts), rowid LIMIT ?", (" OR ".join(f'"{t}"' for t in ts), k))]

    rows = bm25(telling) if telling else []
    return bm25(present) if len(rows) < k and len(telling) < len(present) else rows


@pytest.fixture(scope="module")
def index(fts):
    return LexicalIndex(fts.execute("SELECT rowid, lex FROM chunks_fts ORDER BY rowid"))


def test_every_term_scores_bit_for_bit_as_fts5(fts, index):
    for term in index.vocab:
        assert index.search([term], 15) == fts5_search(fts, [term], 15), term


def test_queries_of_several_terms_rank_and_score_as_fts5(fts, index):
    rng = random.Random(5)
    vocab = sorted(index.vocab)
    common = sorted(vocab, key=index.df)[-3:]  # some of them in more than half the chunks
    assert index.df(common[-1]) > index.n / 2
    for _ in range(200):
        terms = rng.sample(vocab, rng.randint(2, 7)) + rng.sample(common, rng.randint(0, 2)) + ["xyzzy"]
        k = rng.choice([1, 5, 20, 400])
        assert index.search(terms, k) == fts5_search(fts, terms, k), terms


def test_allowed_ids_filter_the_hits_and_keep_the_whole_index_statistics(fts, index):
    allowed = [int(i) for i in index.ids[::4]] + [10**9]  # an unknown id is ignored
    terms = lexical_tokens("këshilli policia siguria komuniteti bashkia")
    got = index.search(terms, 30, allowed)
    assert got and got == fts5_search(fts, terms, 30, allowed)
    assert index.search(terms, 30, []) == []


def test_tokens_in_more_than_half_the_chunks_count_only_when_the_others_find_too_few():
    rows = [(1, "polic plan"), (2, "polic plan"), (3, "plan bashk"), (4, "bashk shkoll")]  # polic: half
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(lex, tokenize = 'unicode61')")
    db.executemany("INSERT INTO chunks_fts(rowid, lex) VALUES (?, ?)", rows)
    index = LexicalIndex(rows)
    assert [i for i, _ in index.search(["polic", "plan"], 1)] == [1]
    assert [i for i, _ in index.search(["polic", "plan"], 3)] == [1, 2, 3]
    for k in (1, 2, 3):
        assert index.search(["polic", "plan"], k) == fts5_search(db, ["polic", "plan"], k)


def test_ties_go_to_the_lower_id(index):
    term = next(t for t in index.vocab if index.df(t) > 3)
    hits = index.search([term], 400)
    assert hits == sorted(hits, key=lambda h: (-h[1], h[0]))
    assert any(a[1] == b[1] for a, b in zip(hits, hits[1:]))


def test_nothing_to_find():
    index = LexicalIndex([])
    assert index.search(["ligj"], 5) == []
    index = LexicalIndex([(1, "ligj polic"), (2, "plan")])
    assert index.search([], 5) == [] and index.search(["xyzzy"], 5) == [] and index.search(["ligj"], 0) == []


def test_irregular_whitespace_counts_tokens_as_fts5_does():
    regular = LexicalIndex([(1, "ligj polic ligj"), (2, "plan veprim"), (3, "polic")])
    spaced = LexicalIndex([(1, " ligj  polic ligj"), (2, "plan\tveprim"), (3, "polic ")])
    assert spaced.search(["polic", "plan"], 3) == regular.search(["polic", "plan"], 3)


def test_rows_must_come_in_id_order():
    with pytest.raises(ValueError):
        LexicalIndex([(2, "ligj"), (1, "plan")])


# ---- the SQLite store keeps the index in step with its chunks ---------------------------
def add(store: SqliteStore, filename: str, passages: list[str], kind: str = "minutes"):
    chunks = [NewChunk(ord=i, page=1, section=[], start=0, end=len(p), text=p, lexical=" ".join(lexical_tokens(p)))
              for i, p in enumerate(passages)]
    vectors = np.random.default_rng(len(passages)).normal(size=(len(passages), 8)).astype(np.float32)
    data = f"{filename}:{passages}".encode()
    return store.add_version(filename=filename, title=filename, kind=kind, sha256=hashlib.sha256(data).hexdigest(),
                             original=data, text="\n\n".join(passages), pages=1, tables=[], meta={},
                             chunks=chunks, vectors=vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
                             embedder_id="test")


def test_store_search_follows_new_versions_deletions_and_retokenising(tmp_path):
    store = SqliteStore(tmp_path)
    minutes = add(store, "minutes.txt", ["Policia raportoi për vjedhjet.", "Bashkia ndriçon rrugët."])
    add(store, "plan.txt", ["Plani i veprimit për policinë.", "Shkollat dhe prindërit."], kind="plan")
    police = lexical_tokens("policia")
    assert len(store.lexical_search(police, 10)) == 2
    assert len(store.lexical_search(police, 10, kind="plan")) == 1
    assert len(store.lexical_search(police, 10, document_id=minutes.id)) == 1

    add(store, "minutes.txt", ["Sekretari mbajti procesverbalin."])  # a new version: the old chunks leave
    assert [i for i, _ in store.lexical_search(lexical_tokens("sekretari"), 10)] == \
        [c.id for c in store.document_chunks(minutes.id)]
    assert len(store.lexical_search(police, 10)) == 1

    store.delete_document(minutes.id)
    assert store.lexical_search(lexical_tokens("sekretari"), 10) == []

    assert store.ensure_lexical("v2", lambda c: "xyzzy") == 2
    assert store.lexical_search(police, 10) == []
    assert len(store.lexical_search(["xyzzy"], 10)) == 2
    store.close()


def test_concurrent_searches_build_one_index_while_documents_arrive(tmp_path):
    store = SqliteStore(tmp_path)
    add(store, "a.txt", ["Policia raportoi për vjedhjet."] * 20)
    police, errors = lexical_tokens("policia vjedhjet"), []

    def search():
        try:
            for _ in range(20):
                assert store.lexical_search(police, 5)
        except Exception as e:  # noqa: BLE001  (reported by the main thread)
            errors.append(e)

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(5):
        add(store, f"b{i}.txt", ["Bashkia dhe policia."] * 10)
    for t in threads:
        t.join()
    assert not errors
    assert len(store.lexical_search(police, 100)) == 70
    store.close()


# ---- a write changes the index; it never needs a rebuild -------------------------------
def assert_same(index: LexicalIndex, rows: dict[int, str], rng: random.Random) -> None:
    """`index` ranks, scores and counts exactly as an index built afresh over `rows`."""
    fresh = LexicalIndex(sorted(rows.items()))
    assert index.n == fresh.n and np.array_equal(index.ids, fresh.ids)
    assert {t: index.df(t) for t in fresh.vocab} == {t: fresh.df(t) for t in fresh.vocab}
    vocab = sorted(fresh.vocab)
    for _ in range(60):
        terms = rng.sample(vocab, rng.randint(1, 6))
        k = rng.choice([1, 10, 50, 2000])
        allowed = rng.sample(sorted(rows), len(rows) // 3) if rng.random() < 0.2 else None
        assert index.search(terms, k, allowed) == fresh.search(terms, k, allowed), terms


def test_adds_and_removes_equal_a_full_rebuild(fts):
    """Documents arrive, get new versions (their chunks leave, new ones come, ids reused when the
    newest leave) and are deleted; after each write the changed index is the fresh one."""
    lexes = [lex for _, lex in fts.execute("SELECT rowid, lex FROM chunks_fts ORDER BY rowid")]
    rng = random.Random(11)
    index, rows, docs, next_id = LexicalIndex([]), {}, [], 1
    for step in range(40):
        action = rng.random()
        if docs and action < 0.25:  # a document is deleted
            gone = docs.pop(rng.randrange(len(docs)))
            add = []
        else:
            gone = docs.pop(rng.randrange(len(docs))) if docs and action < 0.5 else []  # a new version
            if gone and max(gone) == next_id - 1:
                next_id = min(gone)  # the newest rows left: SQLite hands their ids out again
            size = rng.choice([1, 3, 20, 150, 600])
            add = [(next_id + i, lexes[rng.randrange(len(lexes))]) for i in range(size)]
            next_id += size
            docs.append([i for i, _ in add])
        for i in gone:
            del rows[i]
        rows.update(add)
        index = index.changed(gone, add)
        assert len(index.segments) <= 8
        if step % 5 == 4 or step == 39:
            assert_same(index, rows, rng)
    # the index a running search holds is left as it was
    terms = sorted(index.vocab)[:40]
    hits, n = index.search(terms, 100), index.n
    index.changed(docs[0], [(next_id, lexes[0])])
    assert index.search(terms, 100) == hits and index.n == n


def test_store_changes_its_index_and_it_equals_a_fresh_one(tmp_path):
    store = SqliteStore(tmp_path)
    add(store, "a.txt", ["Policia raportoi për vjedhjet.", "Bashkia ndriçon rrugët."])
    store.lexical_search(lexical_tokens("policia"), 10)  # built here, once
    built = store._lexical
    b = add(store, "b.txt", ["Policia dhe bashkia.", "Vjedhjet në lagje.", "Shkollat e lagjes."])
    add(store, "a.txt", ["Policia mbylli rastin e vjedhjes."])  # a new version
    store.delete_document(b.id)
    add(store, "c.txt", ["Bashkia dhe policia ndriçojnë rrugët.", "Prindërit në shkollë."])
    assert store._lexical.vocab is built.vocab  # changed by the writes, not built again
    fresh = LexicalIndex(store.db.execute("SELECT rowid, lex FROM chunks_fts ORDER BY rowid"))
    for words in ("policia vjedhjet", "bashkia rrugët", "shkollat lagjes", "prindërit policia bashkia"):
        tokens = lexical_tokens(words)
        assert store.lexical_search(tokens, 10) == fresh.search(tokens, 10), words
    assert [i for i, _ in store.lexical_search(lexical_tokens("lagje"), 10)] == []  # b.txt is gone
    store.close()
