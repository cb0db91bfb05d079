"""PDF ingestion: columns, footnotes, running headers, headings, tables, errors, OCR and OCR repair."""
import io
import re
from pathlib import Path

import pypdf
import pytest

from ingest.albanian.ocr_repair import needs_repair, repair
from ingest.model import IngestError
from ingest.formats.pdf import parse_pdf, reflow

ROOT = Path(__file__).resolve().parent.parent
GUIDEBOOK = ROOT / "corpus/udherrefyes-ngritja-funksionimi-kvsp.pdf"
STRATEGY = ROOT / "tests/fixtures/strategjia-sigurise-ne-komunitet-2021-2026.pdf"
ELBASAN = ROOT / "tests/fixtures/plani-nderinstitucional-parandalimi-krimit-elbasan.pdf"
SCAN = ROOT / "corpus/mekanizmat-ekzistues-kvsp-skanuar.pdf"
OCR_TXT = ROOT / "tests/fixtures/mekanizmat-ekzistues-kvsp-ocr.txt"


@pytest.fixture(scope="module")
def guidebook():
    return parse_pdf(GUIDEBOOK.read_bytes(), "Udhërrëfyes")


@pytest.fixture(scope="module")
def strategy():
    return parse_pdf(STRATEGY.read_bytes(), "Strategjia")


@pytest.fixture(scope="module")
def elbasan():
    return parse_pdf(ELBASAN.read_bytes(), "Plani Elbasan")


def texts(doc, *kinds):
    return [doc.block_text(b) for b in doc.blocks if not kinds or b.kind in kinds]


def assert_spans(doc):
    for block in doc.blocks:
        text = doc.text[block.start : block.end]
        assert text and text == text.strip() and "\n\n" not in text
    starts = [b.start for b in doc.blocks]
    assert starts == sorted(starts)
    for table in doc.tables:
        for span in table.spans:
            assert span is None or any((b.start, b.end) == span and b.kind == "table_row" for b in doc.blocks)


def test_two_columns_read_in_order_and_sentences_join_across_breaks(guidebook):
    body = texts(guidebook, "paragraph", "list_item")
    # the left column ends mid-sentence and the right column finishes it
    assert any("ofrim shërbimesh (nënat dhe familjet përfitojnë automatikisht nga fëmijët)" in t for t in body)
    # the same across a page break
    assert any("fuqizojnë llogaridhënien dhe përditësojnë prioritetet vendore të sigurisë" in t for t in body)
    # the right column's first words stay in the right column's sentence
    assert any("miratimin e një plani shumaktorial" in t for t in body)
    assert guidebook.pages == 11
    assert_spans(guidebook)


def test_footnotes_are_their_own_blocks(guidebook):
    notes = texts(guidebook, "footnote")
    numbers = [int(re.match(r"\d+", n).group()) for n in notes]
    assert numbers == list(range(1, 16))
    body = " ".join(texts(guidebook, "paragraph", "list_item", "heading"))
    assert "Qendra Kosovare për Studime të Sigurisë" not in body
    assert "Qendra Kosovare për Studime të Sigurisë" in notes[1]


def test_running_header_and_page_numbers_dropped(guidebook):
    header = "MODEL PËR NGRITJEN DHE FUNKSIONIMIN E KËSHILLAVE VENDORË TË SIGURISË PUBLIKE (KSVP)"
    assert header not in guidebook.text
    assert not any(re.fullmatch(r"\d{1,2}", t) for t in texts(guidebook))


def test_superscript_markers_removed_from_body(guidebook):
    body = " ".join(texts(guidebook, "paragraph", "list_item"))
    assert "kryesisht në Kosovë dhe Serbi" in body
    assert not re.search(r"\b[^\W\d_]{3,}\d{1,2}\b", body), re.search(r"\b[^\W\d_]{3,}\d{1,2}\b", body)


def test_guidebook_table_rows_with_headers(guidebook):
    table = next(t for t in guidebook.tables if t.rows[0][0].startswith("Nr"))
    assert len(table.rows) == 5 and table.page == 8
    rows = [guidebook.text[s:e] for s, e in filter(None, table.spans)]
    assert [r.split(";")[0] for r in rows] == ["Nr.: 1.2", "Nr.: 1.4", "Nr.: 1.5", "Nr.: 1.7"]
    assert "Prioriteti: Prioritet i lartë" in rows[1]
    assert "Institucioni përgjegjës:" in rows[0] and "Afati: Çdo 2 muaj" in rows[0]


def test_strategy_headings_recovered_without_styles(strategy):
    headings = texts(strategy, "heading")
    assert "PJESA I - KONTEKSTI STRATEGJIK" in headings
    assert "2.1 Kuadri Ligjor" in headings
    assert "Objektivi specifik 2.1 Përmirësimi i komunikimit me publikun" in headings
    masat = [h for h in headings if re.match(r"Masa \d+\.", h)]
    assert len(masat) == 23
    # a two-line heading is one heading, and it is the section of what follows
    masa4 = next(b for b in strategy.blocks if strategy.block_text(b).startswith("Masa 4."))
    assert strategy.block_text(masa4).endswith("i orientuar nga Inteligjenca dhe Informacioni")
    after = strategy.blocks[strategy.blocks.index(masa4) + 1]
    assert after.section[-1] == strategy.block_text(masa4)
    levels = {strategy.block_text(b).split()[0]: b.level for b in strategy.blocks if b.kind == "heading"}
    assert levels["PJESA"] < levels["Objektivi"] < levels["Masa"]
    assert len(texts(strategy, "list_item")) > 150
    assert_spans(strategy)


def test_table_rows_broken_across_pages_are_joined(elbasan):
    table = elbasan.tables[0]
    assert [row[0] for row in table.rows[1:]] == [f"1.{i}" for i in range(1, 11)]
    rows = [elbasan.text[s:e] for s, e in filter(None, table.spans)]
    assert all(r.startswith("Nr.: 1.") for r in rows)
    assert {elbasan.blocks[i].page for i, b in enumerate(elbasan.blocks) if b.kind == "table_row"} == {2, 3, 4}
    assert "(Përditësuar nga takimit i Këshillit Vendor të Sigurisë Publike, mbajtur më datë 03 Shkurt 2022)" in rows[-1]
    assert_spans(elbasan)


def _pdf_bytes(writer: pypdf.PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "make, code",
    [
        (lambda: b"", "empty_file"),
        (lambda: b"PK\x03\x04 this is a zip, not a PDF", "corrupt_pdf"),
        (lambda: GUIDEBOOK.read_bytes()[:2000], "corrupt_pdf"),
        (lambda: _pdf_bytes(pypdf.PdfWriter()), "empty_file"),
    ],
)
def test_unreadable_files_give_clear_errors(make, code):
    with pytest.raises(IngestError) as err:
        parse_pdf(make(), "x")
    assert err.value.code == code and err.value.message


def test_encrypted_pdf():
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(ELBASAN))
    writer.encrypt("sekret")
    with pytest.raises(IngestError) as err:
        parse_pdf(_pdf_bytes(writer), "x")
    assert err.value.code == "encrypted_pdf"


def test_ocr_of_a_scanned_page_is_cached(tmp_path):
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(SCAN).pages[1])
    data = _pdf_bytes(writer)
    calls = []
    doc = parse_pdf(data, "skanim", ocr_cache_dir=tmp_path, progress=lambda *a: calls.append(a))
    assert doc.meta["ocr"] is True and doc.meta["ocr_pages"][1] > 80 and doc.meta["ocr_confidence"] > 80
    assert "ë" in doc.text and "ç" in doc.text
    assert "Përveç autoriteteve përgjegjëse administrative në nivel qendror" in doc.text
    assert calls[-1] == ("ocr", 1, 1)
    assert list(tmp_path.glob("*.json"))
    again = parse_pdf(data, "skanim", ocr_cache_dir=tmp_path)
    assert again.text == doc.text
    assert_spans(doc)


def test_ocr_repair_only_where_the_word_list_confirms():
    fixed, repairs = repair("Késhilli pér siguriné publike né bashki")
    assert fixed == "Këshilli për sigurinë publike në bashki"
    assert [(r.original, r.replacement) for r in repairs][0] == ("Késhilli", "Këshilli")
    # with a list that does not know the repaired form, nothing changes
    assert repair("Késhilli té", words=frozenset({"bashki"}))[0] == "Késhilli té"
    # a word the list knows is never touched, even if a swap would also give a word
    assert repair("vepron", words=frozenset({"vepron", "vëpron"}))[0] == "vepron"


def test_ocr_repair_on_english_mode_ocr_text():
    text = OCR_TXT.read_text(encoding="utf-8")
    assert needs_repair(text) and not needs_repair("Këshilli Vendor i Sigurisë Publike, çdo muaj.")
    fixed, repairs = repair(text)
    assert text.count("é") > 500 and fixed.count("é") < 20
    assert "qendër komunitare" in fixed and "si dhe" in fixed
    for r in repairs:
        assert text[r.start : r.end] == r.original and fixed[r.new_start : r.new_end] == r.replacement


def test_reflow_joins_hyphenated_words():
    assert reflow(["rritjen e sigu-", "risë publike"]) == "rritjen e sigurisë publike"
    assert reflow(["takimet e KVSP-", "ve"]) == "takimet e KVSP-ve"
    assert reflow(["Komunitet 2021 –", "2026"]) == "Komunitet 2021 – 2026"
