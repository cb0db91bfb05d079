"""Retrieval side by side on one question set, in one run, over the same stored chunks:

- plain BM25 on raw lower-cased tokens (what a naive setup gives),
- BM25 on Albanian-normalised tokens (folded, stop words, stems, English bridge),
- dense multilingual-e5-small only,
- hybrid, linear score fusion (the default),
- hybrid, reciprocal rank fusion;

then the lexical side's readings of a word and of an English question, BM25 alone and in the
default hybrid, each over an in-memory index of the same chunks tokenised that way:

- word: the hand stemmer (ending stripped, truncated; the default), the analyser's lemma, the stem of the lemma,
- English: the hand glossary only, the 58k-lexeme lexicon only, both (the default: glossary first).

    .venv/bin/python bench/retrieval.py [--questions FILE ...] [--split dev] [--data-dir DIR]

With --data-dir, an already ingested data folder is used; otherwise corpus/ is ingested into a
temporary one. --split keeps the questions of that split (bench/realtexts); questions without
one are kept. Prints hit@1, hit@5 and MRR per language and the mean search latency (ms per
question: query tokens and the whole search).
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
from assistant.search import albanian  # noqa: E402
from assistant.search.retrieve import Retriever  # noqa: E402
from assistant.store.lexical_index import LexicalIndex  # noqa: E402
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


WORD_READINGS = {"stemmer (default)": albanian.stem, "lemma": albanian.lemma_term, "stem of lemma": albanian.lemma_stem}
ENGLISH_READINGS = {"glossary": dict(lexicon=False, use_glossary=True), "lexicon": dict(lexicon=True, use_glossary=False),
                    "glossary + lexicon (default)": dict(lexicon=True, use_glossary=True)}


def reading_tokens(text: str, term, english: dict | None) -> list[str]:
    """Query or chunk tokens read with `term`; an English question adds its `english` translations."""
    words = albanian.content_words(text)
    if english is not None:
        words += [w for ws in albanian.translations(albanian.words(text), **english) for w in ws]
    elif text:  # an Albanian question: the glossary's translations of English words it holds, as served
        words += [w for ws in albanian.translations(albanian.words(text), lexicon=False) for w in ws]
    return [term(w) for w in words]


class ReadingRetriever(Retriever):
    """The served retriever with its lexical side read another way, over its own in-memory index."""

    def __init__(self, store, embedder, chunks, term, english: dict, mode: str):
        super().__init__(store, embedder, mode=mode)
        self.term, self.english = term, english
        self.index = LexicalIndex((c.id, " ".join(term(w) for w in albanian.content_words(
            " > ".join(c.section) + "\n" + c.text))) for c in sorted(chunks, key=lambda c: c.id))

    def lexical(self, query, n, kind=None, document_id=None, english=False):
        tokens = reading_tokens(query, self.term, self.english if english else None)
        return dict(self.index.search(tokens, n))


def load_items(paths: list[Path], split: str | None) -> list[dict]:
    items = []
    for path in paths:
        items += [it for it in load_questions(path) if split is None or it.get("split", split) == split]
    return items


def scored(items, search, langs=("sq", "en")) -> tuple[dict, float]:
    search("warm up", K)
    t0 = time.perf_counter()
    run = run_qa(items, search, None, k=K, langs=langs)
    return summarize(run, k=K, langs=langs), (time.perf_counter() - t0) * 1000 / max(len(run.rows), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, nargs="+", default=[ROOT / "tests/fixtures/eval/qa-dev.jsonl"])
    ap.add_argument("--split", help="keep this split's questions (dev: tune on; test: report)")
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    items = load_items(args.questions, args.split)

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
            return lambda q, k: [{"text": h.chunk.text} for h in r.search(q, k=k, english=english_question(q))]

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
            s, ms = scored(items, search)
            cells = [f"{s[lang][m]:.2f}" for lang in ("sq", "en") for m in ("hit@1", f"hit@{K}", "mrr")]
            print(f"| {name} | " + " | ".join(cells) + f" | {ms:.1f} |")

        print("\n| word reading | English bridge | search | sq hit@1 | sq hit@5 | sq MRR | en hit@1 | en hit@5 | en MRR"
              " | sq ms | en ms | query tokens ms |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        questions = [it[key] for it in items for key in ("question", "question_en")]
        for word, term in WORD_READINGS.items():
            for bridge, english in ENGLISH_READINGS.items():
                t0 = time.perf_counter()
                for q in questions:
                    reading_tokens(q, term, english if english_question(q) else None)
                token_ms = (time.perf_counter() - t0) * 1000 / max(len(questions), 1)
                for mode in ("lexical", "hybrid"):
                    r = ReadingRetriever(svc.store, svc.embedder, chunks, term, english, mode)
                    row = []
                    for lang in ("sq", "en"):
                        s, ms = scored(items, lambda q, k, lang=lang: [{"text": h.chunk.text}
                                                                       for h in r.search(q, k=k, english=lang == "en")],
                                       langs=(lang,))
                        row.append((s[lang], ms))
                    cells = [f"{s[m]:.2f}" for s, _ in row for m in ("hit@1", f"hit@{K}", "mrr")]
                    print(f"| {word} | {bridge} | {'BM25' if mode == 'lexical' else 'hybrid'} | " + " | ".join(cells)
                          + f" | {row[0][1]:.1f} | {row[1][1]:.1f} | {token_ms:.2f} |")


def english_question(q: str) -> bool:
    """Read as the answer service reads it (compose.question_lang)."""
    from assistant.answers.compose import question_lang

    return question_lang(q) == "en"


if __name__ == "__main__":
    main()
