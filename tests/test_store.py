"""The store contract, run with the same assertions on SQLite + FAISS and on PostgreSQL + pgvector,
plus the move of a SQLite data folder into PostgreSQL."""
import hashlib
import json
import sqlite3
import threading
import time

import numpy as np
import psycopg
import pytest
import typer
from typer.testing import CliRunner

from assistant.accounts import audit
from assistant.accounts.auth import AuthDb
from assistant.plan.store import PlanStore
from assistant.search.albanian import lexical_tokens
from assistant.store import migrations
from assistant.store.base import NewChunk
from assistant.store.migrate_sqlite import copy_sqlite_to_postgres
from assistant.store.postgres import PostgresStore
from assistant.store.sqlite import SqliteStore
from ingest.model import Table
from web.cli.db import register

DIM = 16
EMBEDDER = "test-embedder"
PASSAGES = [
    "Këshilli Vendor i Sigurisë Publike mblidhet çdo tre muaj.",
    "Policia e Shtetit raporton për vjedhjet në lagjen e re.",
    "Bashkia planifikon ndriçimin e rrugëve pranë shkollave.",
    "Drejtoria Arsimore organizon takime me prindërit për bullizmin.",
    "Sekretari teknik harton procesverbalin e mbledhjes.",
    "Plani i veprimit përcakton afatet dhe institucionet përgjegjëse.",
]


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def chunks_of(passages: list[str]) -> list[NewChunk]:
    out, start = [], 0
    for i, text in enumerate(passages):
        out.append(NewChunk(ord=i, page=i // 2 + 1, section=["Neni 1", f"pika {i}"], start=start,
                            end=start + len(text), text=text, lexical=" ".join(lexical_tokens(text))))
        start += len(text) + 2
    return out


def add(store, filename: str, passages: list[str], vectors: np.ndarray, kind: str = "minutes",
        tables: list[Table] | None = None, embedder: str = EMBEDDER):
    text = "\n\n".join(passages)
    data = f"{filename}:{text}".encode()
    return store.add_version(filename=filename, title=filename.rsplit(".", 1)[0].title(), kind=kind,
                             sha256=hashlib.sha256(data).hexdigest(), original=data, text=text, pages=3,
                             tables=tables or [], meta={"ocr": False, "lang": "sq"}, chunks=chunks_of(passages),
                             vectors=vectors, embedder_id=embedder)


def open_store(backend: str, data_dir, request):
    if backend == "sqlite":
        return SqliteStore(data_dir)
    return PostgresStore(request.getfixturevalue("pg_url"), data_dir)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    s = open_store(request.param, tmp_path / "data", request)
    yield s
    s.close()


@pytest.fixture()
def filled(store):
    """Two documents of different kinds; returns (store, docs, vectors per document)."""
    rng = np.random.default_rng(7)
    vectors = {"minutes": unit(rng, 4), "plan": unit(rng, 2)}
    table = Table(rows=[["Nr", "Problematika", "Afati"], ["1", "Ndriçimi", "2025"]], spans=[None, (0, 20)], page=2)
    docs = {"minutes": add(store, "procesverbal-1.txt", PASSAGES[:4], vectors["minutes"], tables=[table]),
            "plan": add(store, "plani.docx", PASSAGES[4:], vectors["plan"], kind="plan")}
    return store, docs, vectors


def snapshot(store) -> tuple:
    docs = [d.public() for d in store.list_documents()]
    chunks = {d["id"]: store.document_chunks(d["id"]) for d in docs}
    probe = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    return (docs, chunks, store.lexical_search(lexical_tokens("policia bashkia plani"), 10),
            [i for i, _ in store.dense_search(probe, 10)])


def test_add_and_find_by_sha(filled):
    store, docs, _ = filled
    doc = docs["minutes"]
    assert doc.version == 1 and doc.chunks == 4 and doc.kind == "minutes" and doc.title == "Procesverbal-1"
    found = store.find_by_sha(doc.sha256)
    assert found.id == doc.id and found.meta == {"ocr": False, "lang": "sq"}
    assert store.find_by_sha("0" * 64) is None
    assert [d.id for d in store.list_documents()] == [docs["plan"].id, doc.id]  # by title
    assert store.original_bytes(doc.id).startswith(b"procesverbal-1.txt:")
    assert store.embedder_id == EMBEDDER


def test_get_document_round_trips_text_and_tables(filled):
    store, docs, _ = filled
    stored = store.get_document(docs["minutes"].id)
    assert stored.text == "\n\n".join(PASSAGES[:4])
    assert stored.tables == [Table(rows=[["Nr", "Problematika", "Afati"], ["1", "Ndriçimi", "2025"]],
                                   spans=[None, (0, 20)], page=2, header_rows=1)]
    assert stored.created_at == docs["minutes"].created_at
    assert store.get_document("nope") is None


def test_chunks_keep_their_positions(filled):
    store, docs, _ = filled
    chunks = store.document_chunks(docs["minutes"].id)
    assert [c.text for c in chunks] == PASSAGES[:4]
    first = chunks[0]
    assert (first.page, first.section, first.start, first.end, first.kind) == (1, ["Neni 1", "pika 0"], 0,
                                                                                 len(PASSAGES[0]), "minutes")
    ids = [chunks[2].id, 999_999, chunks[0].id]
    assert [c.id for c in store.get_chunks(ids)] == [chunks[2].id, chunks[0].id]


def test_lexical_search_ranks_the_matching_chunk_first(filled):
    store, docs, _ = filled
    chunks = store.document_chunks(docs["minutes"].id)
    hits = store.lexical_search(lexical_tokens("vjedhjet e policisë"), 5)
    assert hits[0][0] == chunks[1].id
    assert all(hits[i][1] >= hits[i + 1][1] for i in range(len(hits) - 1))
    assert store.lexical_search(lexical_tokens("xyzzy"), 5) == []
    assert store.lexical_search([], 5) == []


def test_dense_search_returns_the_nearest_chunk_first(filled):
    store, docs, vectors = filled
    chunks = store.document_chunks(docs["plan"].id)
    query = vectors["plan"][1] + 0.05 * vectors["minutes"][0]
    hits = store.dense_search(query / np.linalg.norm(query), 3)
    assert hits[0][0] == chunks[1].id and 0.9 < hits[0][1] <= 1.0001
    exact = store.dense_search(vectors["minutes"][2], 6)
    assert len(exact) == 6 and exact[0][1] == pytest.approx(1.0, abs=1e-5)


def test_filters_by_kind_and_document(filled):
    store, docs, vectors = filled
    plan_ids = {c.id for c in store.document_chunks(docs["plan"].id)}
    tokens = lexical_tokens("sekretari plani policia bashkia")
    assert {i for i, _ in store.lexical_search(tokens, 10, kind="plan")} == plan_ids
    assert {i for i, _ in store.dense_search(vectors["minutes"][0], 10, kind="plan")} == plan_ids
    assert {i for i, _ in store.dense_search(vectors["minutes"][0], 10, document_id=docs["plan"].id)} == plan_ids
    minutes = store.lexical_search(tokens, 10, document_id=docs["minutes"].id)
    assert minutes and not {i for i, _ in minutes} & plan_ids
    assert store.lexical_search(tokens, 10, kind="strategy") == []
    assert store.dense_search(vectors["plan"][0], 10, kind="strategy") == []


def test_new_version_replaces_old_chunks(filled):
    store, docs, vectors = filled
    old = store.document_chunks(docs["minutes"].id)
    new_vectors = unit(np.random.default_rng(11), 2)
    second = add(store, "procesverbal-1.txt", ["Mbledhja e dytë miratoi buxhetin.", PASSAGES[1]], new_vectors)
    assert second.id == docs["minutes"].id and second.version == 2 and second.chunks == 2
    assert store.find_by_sha(docs["minutes"].sha256) is None
    assert store.find_by_sha(second.sha256).version == 2
    assert len(store.list_documents()) == 2
    new_ids = {c.id for c in store.document_chunks(second.id)}
    old_ids = {c.id for c in old}
    assert not new_ids & old_ids
    lexical = {i for i, _ in store.lexical_search(lexical_tokens(" ".join(PASSAGES)), 50)}
    dense = {i for v in vectors["minutes"] for i, _ in store.dense_search(v, 10)}
    assert not (lexical | dense) & old_ids
    assert new_ids <= lexical and new_ids <= dense
    assert store.get_chunks(sorted(old_ids)) == []


def test_the_same_file_stored_twice_is_one_version(filled):
    """Two hosts ingesting one corpus file at first start both reach add_version: the writer that
    comes second finds the file stored and adds nothing."""
    store, docs, vectors = filled
    again = add(store, "procesverbal-1.txt", PASSAGES[:4], vectors["minutes"])
    assert (again.id, again.version, again.chunks) == (docs["minutes"].id, 1, 4)
    assert len(store.document_chunks(again.id)) == 4


def test_failed_add_leaves_the_store_as_it_was(filled):
    store, docs, _ = filled
    before = snapshot(store)
    too_few = unit(np.random.default_rng(3), 1)
    with pytest.raises(ValueError):  # zip(strict=True): 2 chunks, 1 vector
        add(store, "procesverbal-1.txt", PASSAGES[:2], too_few)
    with pytest.raises(ValueError):
        add(store, "new.txt", PASSAGES[:2], too_few)
    with pytest.raises(ValueError, match="re-index"):
        add(store, "other.txt", PASSAGES[:1], too_few, embedder="another-model")
    assert snapshot(store) == before


def test_delete_document(filled):
    store, docs, vectors = filled
    doc_id = docs["minutes"].id
    gone = {c.id for c in store.document_chunks(doc_id)}
    assert store.delete_document(doc_id) is True
    assert store.get_document(doc_id) is None and store.document_chunks(doc_id) == []
    assert [d.id for d in store.list_documents()] == [docs["plan"].id]
    assert not {i for i, _ in store.lexical_search(lexical_tokens(" ".join(PASSAGES)), 50)} & gone
    assert not {i for v in vectors["minutes"] for i, _ in store.dense_search(v, 10)} & gone
    assert store.delete_document(doc_id) is False


def with_sections(chunk) -> str:
    """A re-tokeniser that also indexes the section path (as a new normalisation version would)."""
    return " ".join(lexical_tokens(" ".join(chunk.section) + " " + chunk.text))


def test_ensure_lexical_retokenises_once(filled):
    store, docs, _ = filled
    assert store.lexical_search(lexical_tokens("pika"), 10) == []
    assert store.ensure_lexical("v2", with_sections) == 6
    assert store.ensure_lexical("v2", with_sections) == 0
    hits = store.lexical_search(lexical_tokens("pika 3"), 10)
    assert len(hits) == 6 and hits[0][0] == store.document_chunks(docs["minutes"].id)[3].id


def test_dense_scores(filled):
    store, docs, vectors = filled
    chunks = store.document_chunks(docs["minutes"].id)
    scores = store.dense_scores(vectors["minutes"][1], [chunks[1].id, chunks[2].id, 999_999])
    assert set(scores) == {chunks[1].id, chunks[2].id}
    assert scores[chunks[1].id] == pytest.approx(1.0, abs=1e-5)
    assert scores[chunks[2].id] == pytest.approx(float(vectors["minutes"][1] @ vectors["minutes"][2]), abs=1e-5)
    assert store.dense_scores(vectors["minutes"][1], []) == {}


def test_artifacts(store):
    payload = {"question": "Kur mblidhet këshilli?", "citations": [{"n": 1, "chunk_id": 3}], "backend": "offline"}
    artifact_id = store.save_artifact("answer", payload)
    saved = store.get_artifact(artifact_id)
    assert saved["id"] == artifact_id and saved["kind"] == "answer" and saved["created_at"]
    assert {k: saved[k] for k in payload} == payload
    store.update_artifact(artifact_id, {**saved, "approvals": [{"by": "sekretari", "at": "2025-01-02"}]})
    assert store.get_artifact(artifact_id)["approvals"] == [{"by": "sekretari", "at": "2025-01-02"}]
    assert store.get_artifact("a-missing") is None


def test_backends_rank_alike(tmp_path, request):
    """PostgreSQL computes FTS5's BM25 from statistics its triggers keep, so both backends order
    lexical and dense hits the same, also after a new version and a deletion."""
    rng = np.random.default_rng(5)
    vectors = unit(rng, len(PASSAGES) + 4)  # all distinct: ties would order arbitrarily
    stores = [open_store(b, tmp_path / b, request) for b in ("sqlite", "postgres")]
    tokens = lexical_tokens("Policia raporton për sigurinë publike dhe planin e veprimit të bashkisë")

    def assert_alike():
        (sq_lex, pg_lex), (sq_dense, pg_dense) = ([s.lexical_search(tokens, 10) for s in stores],
                                                  [s.dense_search(vectors[2], 10) for s in stores])
        assert len(sq_lex) >= 2 and [i for i, _ in sq_lex] == [i for i, _ in pg_lex]
        assert [s for _, s in sq_lex] == pytest.approx([s for _, s in pg_lex], rel=1e-6)
        assert [i for i, _ in sq_dense] == [i for i, _ in pg_dense]
        assert [s for _, s in sq_dense] == pytest.approx([s for _, s in pg_dense], abs=1e-5)

    for s in stores:
        add(s, "a.txt", PASSAGES[:3], vectors[:3])
        add(s, "b.txt", PASSAGES[3:], vectors[3:6], kind="plan")
    assert_alike()
    for s in stores:
        add(s, "a.txt", [PASSAGES[1], "Policia dhe bashkia raportojnë në këshill."], vectors[6:8])
        add(s, "c.txt", ["Komisariati i policisë raporton çdo muaj.", "Bashkia financon kamerat e sigurisë."],
            vectors[8:])
        s.delete_document(s.list_documents()[0].id)
    assert_alike()
    for s in stores:  # re-tokenising updates every chunk: the statistics follow
        s.ensure_lexical("v2", with_sections)
    assert_alike()
    for s in stores:
        s.close()


def test_migrations_apply_once(pg_url):
    with psycopg.connect(pg_url) as conn:
        names = ["0001_initial", "0002_accounts_audit_plan", "0003_audit_sequence", "0004_conversations"]
        assert migrations.apply(conn) == names
        assert migrations.apply(conn) == []
        assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")] == names
        for _ in range(2):
            conn.execute("INSERT INTO audit_log (ts, actor, action, details, prev_hash, hash)"
                         " VALUES ('t', 'a', 'x', '{}', 'p', 'h')")
        assert conn.execute("SELECT seq FROM audit_sequence WHERE name = 'audit_log'").fetchone()[0] == 2
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM audit_log")


def build_sqlite_store(data_dir) -> tuple[SqliteStore, list[str]]:
    store = SqliteStore(data_dir)
    rng = np.random.default_rng(9)
    table = Table(rows=[["Nr", "Masa"], ["1", "Patrullim"]], spans=[None, (3, 12)], page=1)
    add(store, "a.txt", PASSAGES[:3], unit(rng, 3), tables=[table])
    add(store, "a.txt", PASSAGES[:2], unit(rng, 2), tables=[table])  # version 2
    add(store, "b.txt", PASSAGES[3:], unit(rng, 3), kind="plan")
    artifacts = [store.save_artifact("answer", {"answer": "Çdo tre muaj [1].", "citations": [{"chunk_id": 4}]}),
                 store.save_artifact("minutes", {"draft": {"text": "Procesverbal"}})]
    store.ensure_lexical("v2", with_sections)
    accounts = AuthDb(store.database)
    accounts.add_user("admin-1", "admin", "fjalëkalim-i-gjatë")
    accounts.add_user("sekretarja", "secretary", "fjalëkalim-i-gjatë")
    accounts.new_token("sekretarja")
    accounts.new_session("admin-1")
    audit.record(store.database, "admin-1", "user.create", "user", "sekretarja", {"role": "secretary"})
    plan = PlanStore(store.database)
    rows = plan.add_rows([{"problem": "Ndriçimi pranë shkollave", "activities": ["Llamba"]},
                          {"problem": "Bullizmi në shkolla"}], origin="extract", actor="sekretarja")
    plan.approve(rows[0]["id"], "admin-1", reason="urgjent")  # nobody approves their own row
    return store, artifacts


def test_migrate_sqlite_to_postgres(tmp_path, pg_url):
    data_dir = tmp_path / "data"
    source, artifacts = build_sqlite_store(data_dir)
    progress = []
    token = AuthDb(source.database).new_token("sekretarja")
    counts = copy_sqlite_to_postgres(data_dir, pg_url, progress=lambda *a: progress.append(a))
    assert counts == {"documents": 2, "versions": 3, "chunks": 5, "artifacts": 2, "users": 2, "api_tokens": 2,
                      "sessions": 1, "audit_log": 4, "plan_rows": 2, "plan_events": 3, "plan_versions": 1}
    assert ("chunks", 5, 5) in progress
    target = PostgresStore(pg_url, data_dir)
    assert [d.public() for d in target.list_documents()] == [d.public() for d in source.list_documents()]
    for doc in source.list_documents():
        assert target.get_document(doc.id) == source.get_document(doc.id)
        assert target.document_chunks(doc.id) == source.document_chunks(doc.id)
        assert target.original_bytes(doc.id) == source.original_bytes(doc.id)
    tokens = lexical_tokens("policia bashkia këshilli plani")
    assert [i for i, _ in target.lexical_search(tokens, 10)] == [i for i, _ in source.lexical_search(tokens, 10)]
    probe = unit(np.random.default_rng(1), 1)[0]
    assert [i for i, _ in target.dense_search(probe, 10)] == [i for i, _ in source.dense_search(probe, 10)]
    assert [target.get_artifact(a) for a in artifacts] == [source.get_artifact(a) for a in artifacts]
    assert target.embedder_id == EMBEDDER
    # accounts, the audit chain and the plan came along, and go on
    accounts = AuthDb(target.database)
    assert accounts.list_users() == AuthDb(source.database).list_users()
    assert accounts.user_for_token(token) == {"name": "sekretarja", "role": "secretary"}
    assert accounts.check_password("admin-1", "fjalëkalim-i-gjatë") == {"name": "admin-1", "role": "admin"}
    assert audit.entries(target.database) == audit.entries(source.database) and audit.verify(target.database) == []
    plan, old_plan = PlanStore(target.database), PlanStore(source.database)
    assert plan.rows() == old_plan.rows() and plan.versions() == old_plan.versions()
    assert [plan.history(r["id"]) for r in plan.rows()] == [old_plan.history(r["id"]) for r in old_plan.rows()]
    plan.approve(plan.pending()[0]["id"], "admin-1")
    assert plan.version() == 2 and audit.head(target.database)["id"] == 5 and audit.verify(target.database) == []
    assert target.ensure_lexical("v2", with_sections) == 0  # the tokens came along
    with psycopg.connect(pg_url) as conn:  # built after the bulk copy
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
                            " AND indexname = 'chunks_embedding'").fetchone()[0] == 1
    # new rows continue after the copied ids; a second migration into a full database is refused
    third = add(target, "a.txt", PASSAGES[4:], unit(np.random.default_rng(2), 2))
    assert third.version == 3 and min(c.id for c in target.document_chunks(third.id)) > 5
    with pytest.raises(ValueError, match="empty"):
        copy_sqlite_to_postgres(data_dir, pg_url)
    target.close()
    source.close()


def test_cli_migrate_to_postgres(tmp_path, pg_url):
    data_dir = tmp_path / "data"
    build_sqlite_store(data_dir)[0].close()
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["db", "migrate-to-postgres", "--data-dir", str(data_dir),
                                      "--database-url", pg_url])
    assert result.exit_code == 0, result.output
    assert "2 documents, 3 versions, 5 chunks, 2 artifacts" in result.output
    again = CliRunner().invoke(app, ["db", "migrate-to-postgres", "--data-dir", str(data_dir),
                                     "--database-url", pg_url])
    assert again.exit_code == 1 and "empty" in again.output


def test_an_artifact_saved_during_an_upload_survives_its_rollback(tmp_path):
    """Issue 12: with one connection shared by the threads, an answer saved while an upload's
    transaction was open joined it and was lost with its rollback. Now the upload holds the writer
    lock, the save waits on its own connection, and commits after the rollback."""
    store = SqliteStore(tmp_path / "data")
    add(store, "a.txt", PASSAGES[:1], unit(np.random.default_rng(1), 1))
    in_transaction, saver_started = threading.Event(), threading.Event()
    order = []

    def failing_chunks():  # the upload's transaction is open while this stream is read
        yield from chunks_of(PASSAGES[1:2])
        in_transaction.set()
        assert saver_started.wait(10)
        time.sleep(0.3)  # the saver is now waiting on the writer lock
        order.append("upload failed")
        raise RuntimeError("the upload fails half way")

    def upload():
        with pytest.raises(RuntimeError, match="half way"):
            store.add_version(filename="b.txt", title="B", kind="minutes", sha256="b" * 64, original=b"b",
                              text=PASSAGES[1], pages=1, tables=[], meta={}, chunks=failing_chunks(),
                              vectors=unit(np.random.default_rng(2), 2), embedder_id=EMBEDDER)

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert in_transaction.wait(10)
    saver_started.set()
    artifact_id = store.save_artifact("answer", {"answer": "Çdo tre muaj [1]."})
    order.append("artifact saved")
    uploader.join()
    assert order == ["upload failed", "artifact saved"]  # the save did wait for the open transaction
    with sqlite3.connect(tmp_path / "data" / "kvsp.db") as disk:  # what is on disk, past every cache
        payload = disk.execute("SELECT payload FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()[0]
        assert json.loads(payload)["answer"] == "Çdo tre muaj [1]."
        assert [r[0] for r in disk.execute("SELECT filename FROM documents")] == ["a.txt"]
        assert disk.execute("SELECT count(*) FROM chunks").fetchone()[0] == 1
    assert [d.filename for d in store.list_documents()] == ["a.txt"]
