"""Retrieval side by side on one question set, in one run, over the same stored chunks:

- plain BM25 on raw lower-cased tokens (what a naive setup gives),
- BM25 on Albanian-normalised tokens (folded, stop words, stems, English glossary),
- dense multilingual-e5-small only,
- hybrid, linear score fusion (the default),
- hybrid, reciprocal rank fusion.

    .venv/bin/python bench/retrieval.py [--questions tests/fixtures/eval/qa-dev.jsonl] [--data-dir DIR]

With --data-dir, an already ingested data folder is used; otherwise corpus/ is ingested into a
temporary one. Prints hit@1, hit@5 and MRR per language and the mean search latency.
"""
import argparse
import math
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.qa import load_questions, run_qa, summarize  # noqa: E402
from assistant.core.ingestion import ingest_bytes, iter_files  # noqa: E402
from assistant.search.retrieve import Retriever  # noqa: E402
from assistant.core.settings import Settings  # noqa: E402
from web.app import build_services  # noqa: E402

K = 5


class RawBM25:
    """Okapi BM25 over raw lower-cased word tokens: no folding, no stop words, no stems."""

    def __init__(self, chunks, k1: float = 1.5, b: float = 0.75):
        self.chunks = chunks
        self.docs = [Counter(self.tokens(c.text)) for c in chunks]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / max(len(self.lengths), 1)
        df = Counter(t for d in self.docs for t in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    @staticmethod
    def tokens(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    def search(self, query: str, k: int) -> list[dict]:
        terms = self.tokens(query)
        scores = []
        for doc, length in zip(self.docs, self.lengths):
            s = 0.0
            for t in terms:
                f = doc.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * length / self.avg))
            scores.append(s)
        best = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:k]
        return [{"text": self.chunks[i].text} for i in best if scores[i] > 0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, default=ROOT / "tests/fixtures/eval/qa-dev.jsonl")
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    items = load_questions(args.questions)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        svc = build_services(Settings(data_dir=data_dir))
        if not svc.store.list_documents():
            for path in iter_files([ROOT / "corpus"]):
                ingest_bytes(svc, path.name, path.read_bytes())
        chunks = [c for d in svc.store.list_documents() for c in svc.store.document_chunks(d.id)]
        raw = RawBM25(chunks)

        def retriever_search(mode: str, fusion: str = "linear"):
            r = Retriever(svc.store, svc.embedder, mode=mode, fusion=fusion)
            return lambda q, k: [{"text": h.chunk.text} for h in r.search(q, k=k)]

        systems = [
            ("plain BM25, raw tokens", raw.search),
            ("BM25, Albanian-normalised", retriever_search("lexical")),
            ("dense e5-small only", retriever_search("dense")),
            ("hybrid, linear fusion (default)", retriever_search("hybrid", "linear")),
            ("hybrid, reciprocal rank fusion", retriever_search("hybrid", "rrf")),
        ]
        print(f"{len(chunks)} chunks, {sum(1 for i in items if i['answerable'])} answerable questions per language\n")
        print("| retrieval | sq hit@1 | sq hit@5 | sq MRR | en hit@1 | en hit@5 | en MRR | mean ms |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, search in systems:
            search("warm up", K)
            t0 = time.perf_counter()
            run = run_qa(items, search, None, k=K)
            ms = (time.perf_counter() - t0) * 1000 / max(len(run.rows), 1)
            s = summarize(run, k=K)
            cells = [f"{s[lang][m]:.2f}" for lang in ("sq", "en") for m in ("hit@1", f"hit@{K}", "mrr")]
            print(f"| {name} | " + " | ".join(cells) + f" | {ms:.1f} |")


if __name__ == "__main__":
    main()
