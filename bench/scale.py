"""Growth benchmark: how ingest, disk, search latency and serving memory grow from 1k to 100k chunks.

    .venv/bin/python bench/scale.py [--base-dir DIR] [--sizes 1000,10000,100000] [--plot docs/scale.png]

The corpus grows from the bundled documents only: corpus/ is ingested for real (or --base-dir,
an already ingested data folder, is read), and new chunks are recombined from its chunks:
sentences of two chunks shuffled into one, the vector a random mix of the two vectors plus a
little noise, renormalised. No external data and no embedding of 100k passages: embedding
throughput is measured apart, on real chunks. Synthetic chunks go into a real SqliteStore through
add_version, in large documents, with one typical 50-chunk document timed at the end of each
stage. At each size a fresh process opens the data folder as `kvsp serve` does and runs the
queries through the /api/search code path: its peak RSS is the serving RSS. It then adds one
typical document and times the 20 searches right after it (they pay for bringing the in-memory
indexes up to date), and deletes the document again. At the largest size
the approximate FAISS index is compared with exact search (recall@10 / @50, nprobe sweep).

Caveat: recombined text reuses a small vocabulary, so full-text postings are denser than in a
real archive of the same size (pessimistic for lexical search); mixed vectors are smoother than
real ones.
"""
import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core.settings import Settings  # noqa: E402

TYPICAL_DOC = 50  # chunks of the document timed at the end of each stage
AFTER_ADD = 20  # searches timed right after adding a document
NOISE = 0.008  # per-dimension sigma added to mixed vectors (a norm of ~0.16 at 384 dimensions)
K = 10


# ---------------------------------------------------------------- the real corpus
def base_corpus(services) -> tuple[list, np.ndarray, dict[str, str]]:
    """The ingested chunks, their stored vectors (same order) and each document's kind."""
    docs = services.store.list_documents()
    chunks = [c for d in docs for c in services.store.document_chunks(d.id)]
    # the bench measures the SQLite store, so it reads the stored vectors straight from it
    rows = dict(services.store.db.execute("SELECT id, vector FROM chunks").fetchall())
    vectors = np.vstack([np.frombuffer(rows[c.id], dtype=np.float32) for c in chunks])
    return chunks, vectors, {d.id: d.kind for d in docs}


def embed_throughput(services, chunks, n: int = 64) -> float:
    """Passages per second of the bulk embedder on real chunk texts (model load excluded)."""
    from ingest.chunker import embedding_text  # reads only .section and .text, which stored chunks have

    texts = [embedding_text(c) for c in chunks[:n]]
    services.embedder.embed_passages(texts[:2] * 20)  # load the bulk model outside the timing
    t0 = time.perf_counter()
    services.embedder.embed_passages(texts)
    return len(texts) / (time.perf_counter() - t0)


# ---------------------------------------------------------------- growing it
class Recombiner:
    """New chunks from pairs of real ones: shuffled sentences, mixed and renormalised vectors."""

    def __init__(self, chunks, vectors: np.ndarray, kinds: dict[str, str], seed: int = 7):
        from assistant.answers.compose import split_sentences
        from assistant.core.preparation import lexical_string

        self.rng = np.random.default_rng(seed)
        self.chunks, self.vectors, self.kinds = chunks, vectors, kinds
        self.sentences = [[c.text[a:b] for a, b in split_sentences(c.text)] or [c.text] for c in chunks]
        # Tokens are word by word, so a chunk's lexical string is the join of its section's and its
        # sentences' strings: each is computed once, not once per synthetic chunk.
        lex = {s: lexical_string([], s) for ss in self.sentences for s in ss}
        self.lexical = [[lex[s] for s in ss] for ss in self.sentences]
        self.section_lexical = [lexical_string(c.section, "") for c in chunks]

    def chunk(self, i: int, j: int) -> tuple[str, str]:
        pool = [(s, x) for k in (i, j) for s, x in zip(self.sentences[k], self.lexical[k])]
        picked = [pool[p] for p in self.rng.permutation(len(pool))[: max(1, round(len(pool) / 2))]]
        lexical = " ".join(x for x in [self.section_lexical[i], *(x for _, x in picked)] if x)
        return " ".join(s for s, _ in picked), lexical

    def document(self, number: int, n_chunks: int) -> dict:
        """add_version's keyword arguments for one synthetic document of n_chunks chunks."""
        from assistant.store.base import NewChunk

        pairs = self.rng.integers(0, len(self.chunks), size=(n_chunks, 2))
        w = self.rng.uniform(0.3, 0.7, size=(n_chunks, 1)).astype(np.float32)
        vectors = w * self.vectors[pairs[:, 0]] + (1 - w) * self.vectors[pairs[:, 1]]
        vectors += self.rng.normal(0, NOISE, size=vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        new_chunks, parts, offset = [], [], 0
        for ord_, (i, j) in enumerate(pairs):
            text, lexical = self.chunk(int(i), int(j))
            base = self.chunks[int(i)]
            new_chunks.append(NewChunk(ord_, 1 + ord_ // 3, list(base.section), offset, offset + len(text),
                                       text, lexical))
            parts.append(text)
            offset += len(text) + 2
        text = "\n\n".join(parts)
        original = text.encode("utf-8")
        return dict(filename=f"scale-{number:06d}.txt", title=f"Recombined document {number}",
                    kind=self.kinds[self.chunks[int(pairs[0, 0])].document_id],
                    sha256=hashlib.sha256(original).hexdigest(), original=original, text=text,
                    pages=1 + (n_chunks - 1) // 3, tables=[], meta={"synthetic": True}, chunks=new_chunks,
                    vectors=vectors)


def grow(store, recombiner: Recombiner, embedder_id: str, start: int, target: int, doc_chunks: int,
         number: int) -> dict:
    """Add documents until the store holds `target` chunks; the last one is a typical document,
    timed apart. Only add_version is timed (synthesis is not ingest)."""
    stored, spent, typical_s = start, 0.0, None
    while stored < target:
        size = min(doc_chunks, target - stored - TYPICAL_DOC) if target - stored > TYPICAL_DOC else target - stored
        kwargs = recombiner.document(number, size)
        number += 1
        t0 = time.perf_counter()
        store.add_version(**kwargs, embedder_id=embedder_id)
        elapsed = time.perf_counter() - t0
        spent += elapsed
        stored += size
        if stored == target:
            typical_s = elapsed
    return {"chunks_per_s": (target - start) / spent, "typical_doc_s": typical_s, "next_number": number}


def disk_mb(data_dir: Path) -> dict:
    def mb(*names):
        return sum((data_dir / n).stat().st_size for n in names if (data_dir / n).exists()) / 2**20
    originals = sum(p.stat().st_size for p in (data_dir / "files").rglob("*") if p.is_file()) / 2**20
    return {"db_mb": mb("kvsp.db", "kvsp.db-wal"), "faiss_mb": mb("vectors.faiss"), "originals_mb": originals}


# ---------------------------------------------------------------- serving, in a fresh process
class Timed:
    """Wraps a serving object (the embedder, the store) and adds up the time spent in some of its methods."""

    def __init__(self, inner, methods: tuple[str, ...]):
        self.inner, self.ms = inner, dict.fromkeys(methods, 0.0)

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name not in self.ms:
            return attr

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.ms[name] += (time.perf_counter() - t0) * 1000
        return timed


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def peak_rss_mb() -> float:
    """This process's peak resident size. VmHWM, not getrusage: on Linux ru_maxrss survives fork and
    exec, so a child started by a large parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve_probe(data_dir: Path, queries: list[str]) -> dict:
    """Runs in a fresh process: open the data folder as `kvsp serve` does, answer the queries through
    the /api/search code, and report latencies and this process's peak RSS."""
    from assistant.search.retrieve import Retriever
    from assistant.core.services import Services
    from web.app import build_services, create_app
    from web.routes.search import search_results

    t0 = time.perf_counter()
    settings = Settings(data_dir=data_dir, database_url=None)
    services = build_services(settings)
    create_app(settings, services)  # what the server holds besides the store and the model
    open_s = time.perf_counter() - t0
    embedder = Timed(services.embedder, ("embed_query",))
    store = Timed(services.store, ("lexical_search", "dense_search"))
    services = Services(settings, store, embedder, Retriever(store, embedder))
    for q in queries[:3]:  # warm-up: first touch of the index pages and the SQLite cache
        search_results(services, q, K, None)
    times: dict[str, list[float]] = {"total": [], "embed": [], "lexical": [], "dense": []}
    for q in queries:
        embedder.ms, store.ms = dict.fromkeys(embedder.ms, 0.0), dict.fromkeys(store.ms, 0.0)
        t0 = time.perf_counter()
        search_results(services, q, K, None)
        times["total"].append((time.perf_counter() - t0) * 1000)
        times["embed"].append(embedder.ms["embed_query"])
        times["lexical"].append(store.ms["lexical_search"])
        times["dense"].append(store.ms["dense_search"])
    times["search"] = [t - e for t, e in zip(times["total"], times["embed"])]
    rss = peak_rss_mb()  # serving, before the add
    return {"open_s": open_s, **{f"{name}_{q}": pct(values, p) for name, values in times.items()
                                 for q, p in (("p50", 0.5), ("p95", 0.95))},
            "rss_mb": rss, **after_add(services, embedder, store, queries), "rss_after_add_mb": peak_rss_mb()}


def after_add(services, embedder: Timed, store: Timed, queries: list[str], n: int = AFTER_ADD) -> dict:
    """Add one typical document (the newest stored chunks, copied), time the next n searches, query
    embedding excluded, and delete the document again."""
    from assistant.store.base import NewChunk
    from web.routes.search import search_results

    inner = store.inner
    rows = inner.db.execute("SELECT c.text, f.lex, c.vector FROM chunks c JOIN chunks_fts f ON f.rowid = c.id"
                            " ORDER BY c.id DESC LIMIT ?", (TYPICAL_DOC,)).fetchall()
    chunks = [NewChunk(i, 1, [], 0, len(text), text, lex) for i, (text, lex, _) in enumerate(rows)]
    text = "\n\n".join(c.text for c in chunks)
    t0 = time.perf_counter()
    doc = inner.add_version(filename="after-add-probe.txt", title="After add", kind="minutes",
                            sha256=hashlib.sha256(text.encode()).hexdigest(), original=text.encode(), text=text,
                            pages=1, tables=[], meta={}, chunks=chunks,
                            vectors=np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows]),
                            embedder_id=inner.embedder_id)
    add_s = time.perf_counter() - t0
    ms = []
    for q in queries[:n]:
        embedder.ms = dict.fromkeys(embedder.ms, 0.0)
        t0 = time.perf_counter()
        search_results(services, q, K, None)
        ms.append((time.perf_counter() - t0) * 1000 - embedder.ms["embed_query"])
    inner.delete_document(doc.id)
    return {"probe_add_s": add_s, "after_add_first": ms[0], "after_add_p95": pct(ms, 0.95)}


def probe_in_subprocess(data_dir: Path, queries_file: Path) -> dict:
    command = [sys.executable, __file__, "--serve-probe", str(data_dir), "--queries-file", str(queries_file)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- approximate vs exact
def recall_report(store, embedder, queries: list[str]) -> dict:
    """Recall of the store's approximate index against exact inner-product search, and latency per
    query over a sweep of nprobe values (the store's own value marked)."""
    import faiss

    from assistant.store import vector_index

    index = store.index
    if vector_index.is_exact(index):
        return {"index": "exact", "rows": []}
    ids, vectors = zip(*((i, np.frombuffer(v, dtype=np.float32)) for i, v in store.db.execute(
        "SELECT id, vector FROM chunks ORDER BY id")))
    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors[0].shape[0]))
    exact.add_with_ids(np.vstack(vectors), np.array(ids, dtype=np.int64))
    qv = np.vstack([embedder.embed_query(q) for q in queries]).astype(np.float32)

    def timed_search(idx, k):
        out, ms = [], []
        for v in qv:
            t0 = time.perf_counter()
            _, found = idx.search(v.reshape(1, -1), k)
            ms.append((time.perf_counter() - t0) * 1000)
            out.append(found[0])
        return out, ms

    faiss.omp_set_num_threads(vector_index.SEARCH_THREADS)  # single queries, as the store searches
    truth10, flat_ms = timed_search(exact, 10)
    truth50, _ = timed_search(exact, 50)
    ivf = faiss.extract_index_ivf(index)
    own = ivf.nprobe
    rows = [{"nprobe": "exact", "recall@10": 1.0, "recall@50": 1.0, "p50_ms": pct(flat_ms, .5),
             "p95_ms": pct(flat_ms, .95)}]
    for nprobe in sorted({8, 16, 32, 64, 128, own}):
        ivf.nprobe = nprobe
        got10, ms = timed_search(index, 10)
        got50, _ = timed_search(index, 50)
        rows.append({"nprobe": nprobe, "own": nprobe == own,
                     "recall@10": float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got10, truth10)])),
                     "recall@50": float(np.mean([len(set(a) & set(b)) / 50 for a, b in zip(got50, truth50)])),
                     "p50_ms": pct(ms, .5), "p95_ms": pct(ms, .95)})
    ivf.nprobe = own
    return {"index": f"IVF{ivf.nlist},Flat", "n": index.ntotal, "queries": len(queries), "rows": rows}


# ---------------------------------------------------------------- queries, table, plot
def load_queries(chunks, n: int, seed: int = 11) -> list[str]:
    """The dev questions and out-of-scope questions in both languages, topped up to n with the
    opening words of random real sentences (keyword-style queries)."""
    from assistant.answers.compose import split_sentences

    queries = []
    for path in (ROOT / "tests/fixtures/eval/qa-dev.jsonl", ROOT / "bench/out_of_scope.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                queries += [item["question"], item["question_en"]]
    rng = np.random.default_rng(seed)
    sentences = [c.text[a:b] for c in chunks for a, b in split_sentences(c.text) if b - a > 40]
    for i in rng.permutation(len(sentences)):
        if len(queries) >= n:
            break
        queries.append(" ".join(sentences[i].split()[:10]))
    return queries[:n]


def markdown(results: list[dict], embed_ps: float, recall: dict, load: str) -> str:
    lines = ["| chunks | ingest (chunks/s) | add one 50-chunk doc (s) | db (MB) | faiss (MB) | "
             "search p50 / p95 (ms) | of which BM25 p50 / p95 | of which FAISS p50 / p95 | "
             "query embed p50 / p95 (ms) | first / p95 of 20 searches after an add (ms) | serving peak RSS (MB) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r['chunks']:,} | {r['chunks_per_s']:,.0f} | {r['typical_doc_s']:.2f} | {r['db_mb']:.0f} | "
                     f"{r['faiss_mb']:.0f} | {r['search_p50']:.1f} / {r['search_p95']:.1f} | "
                     f"{r['lexical_p50']:.1f} / {r['lexical_p95']:.1f} | {r['dense_p50']:.1f} / {r['dense_p95']:.1f} | "
                     f"{r['embed_p50']:.1f} / {r['embed_p95']:.1f} | "
                     f"{r['after_add_first']:.1f} / {r['after_add_p95']:.1f} | {r['rss_mb']:.0f} |")
    lines.append("")
    lines.append(f"Embedding throughput on real chunks (bulk embedder, {os.cpu_count()} cores): {embed_ps:.1f} "
                 f"passages/s. Search = hybrid (in-memory BM25 + FAISS + fusion + chunk fetch), query embedding "
                 f"excluded and shown apart. {load}")
    if recall.get("rows"):
        lines += ["", f"Approximate index at {recall['n']:,} chunks ({recall['index']}) against exact search, "
                      f"{recall['queries']} queries:", "",
                  "| nprobe | recall@10 | recall@50 | dense p50 / p95 (ms) |", "| --- | --- | --- | --- |"]
        for row in recall["rows"]:
            label = f"{row['nprobe']}" + (" (default)" if row.get("own") else "")
            lines.append(f"| {label} | {row['recall@10']:.3f} | {row['recall@50']:.3f} | "
                         f"{row['p50_ms']:.2f} / {row['p95_ms']:.2f} |")
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["chunks"] for r in results]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    panels = [
        (axes[0, 0], "search latency (ms, log)", [("search p50", "search_p50"), ("search p95", "search_p95"),
                                                   ("of which BM25 p95", "lexical_p95"),
                                                   ("of which FAISS p95", "dense_p95"),
                                                   ("query embed p95", "embed_p95")], 50, "p95 target"),
        (axes[0, 1], "serving peak RSS (MB)", [("RSS", "rss_mb")], 1024, "1 GB target"),
        (axes[1, 0], "index on disk (MB)", [("SQLite", "db_mb"), ("FAISS", "faiss_mb")], None, None),
        (axes[1, 1], "ingest into the store (chunks/s)", [("chunks/s", "chunks_per_s")], None, None),
    ]
    for ax, title, series, target, target_label in panels:
        for label, key in series:
            ax.plot(x, [r[key] for r in results], marker="o", label=label)
        if target:
            ax.axhline(target, color="grey", linestyle="--", linewidth=1, label=target_label)
        ax.set_xscale("log")
        if "log" in title:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("chunks")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("KVSP assistant: cost of growth (SQLite + FAISS, 2 cores)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-dir", type=Path, help="an ingested data folder to grow from (default: ingest corpus/)")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--doc-chunks", type=int, default=1000, help="chunks per synthetic document")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--plot", type=Path, default=ROOT / "docs/scale.png")
    ap.add_argument("--json", type=Path, help="also write the measurements here")
    ap.add_argument("--work-dir", type=Path, help="grow the store here and keep it (default: a temporary folder)")
    ap.add_argument("--serve-probe", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--queries-file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_probe:
        print(json.dumps(serve_probe(args.serve_probe, json.loads(args.queries_file.read_text(encoding="utf-8")))))
        return

    from assistant.core.ingestion import ingest_bytes, iter_files
    from assistant.store.sqlite import SqliteStore
    from web.app import build_services

    sizes = sorted(int(s) for s in args.sizes.split(","))
    load = "Load average at start: " + " / ".join(f"{x:.1f}" for x in os.getloadavg()) + "."
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = args.work_dir or Path(tmp)
        base = build_services(Settings(data_dir=args.base_dir or tmp / "base", database_url=None))
        if not base.store.list_documents():
            print("ingesting corpus/ …", file=sys.stderr)
            for path in iter_files([ROOT / "corpus"]):
                ingest_bytes(base, path.name, path.read_bytes())
        chunks, vectors, kinds = base_corpus(base)
        embed_ps = embed_throughput(base, chunks)
        print(f"{len(chunks)} real chunks; embedding {embed_ps:.1f} passages/s", file=sys.stderr)
        recombiner = Recombiner(chunks, vectors, kinds)
        queries = load_queries(chunks, args.queries)
        queries_file = tmp / "queries.json"
        queries_file.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")

        data_dir = tmp / "scale"
        if data_dir.exists():
            sys.exit(f"{data_dir} exists: grow into an empty --work-dir")
        # opened as the product opens it, so its full-text index carries the normalisation version
        store = build_services(Settings(data_dir=data_dir, database_url=None)).store
        assert isinstance(store, SqliteStore)
        results, stored, number = [], 0, 0
        for size in sizes:
            t0 = time.perf_counter()
            grown = grow(store, recombiner, base.embedder.version, stored, size, args.doc_chunks, number)
            stored, number = size, grown["next_number"]
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # measure the settled files
            row = {"chunks": size, **grown, **disk_mb(data_dir), **probe_in_subprocess(data_dir, queries_file)}
            results.append(row)
            print(f"{size:>7} chunks: stage {time.perf_counter() - t0:.0f} s, "
                  f"{json.dumps({k: round(v, 2) for k, v in row.items() if isinstance(v, float)})}", file=sys.stderr)
        recall = recall_report(store, base.embedder, queries)
        store.close()
    report = markdown(results, embed_ps, recall, load)
    print(report)
    print(f"\n(total {time.perf_counter() - t_start:.0f} s)")
    plot(results, args.plot)
    if args.json:
        args.json.write_text(json.dumps({"sizes": results, "embed_passages_per_s": embed_ps, "recall": recall},
                                        indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
