"""DOCX and TXT/MD/HTML ingestion and the format dispatcher, on the real corpus files."""
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK

from ingest.dispatch import guess_kind, guess_title, parse_file
from ingest.formats.docx import parse_docx
from ingest.model import IngestError
from ingest.formats.text import parse_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SAMPLES = ROOT / "tests" / "fixtures" / "samples"
STRATEGY = CORPUS / "strategjia-sigurise-ne-komunitet-2021-2026.docx"
ELBASAN = CORPUS / "plani-nderinstitucional-parandalimi-krimit-elbasan.docx"
INVITATION = CORPUS / "ftese-tryeze-diskutimi-kvsp-25-nentor-2021.docx"
REGULATION = SAMPLES / "rregullore-kvsp-lumez.docx"
LUMEZ_PLAN = SAMPLES / "plani-shumaktorial-lumez-2024.docx"


def _parse(path: Path):
    return parse_file(path.name, path.read_bytes())


def _docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _spans_exact(doc):
    for block in doc.blocks:
        text = doc.block_text(block)
        assert text and text == text.strip()
    for table in doc.tables:
        for span in table.spans:
            if span is not None:
                assert any((b.start, b.end) == span and b.kind == "table_row" for b in doc.blocks)


@pytest.fixture(scope="module")
def strategy():
    return _parse(STRATEGY)


@pytest.fixture(scope="module")
def elbasan():
    return _parse(ELBASAN)


def test_strategy_sections_and_lists(strategy):
    assert strategy.title.startswith("Strategjia Ndërsektoriale e Sigurisë në Komunitet")
    sections = {tuple(b.section) for b in strategy.blocks}
    masa12 = [s for s in sections if any(part.startswith("Masa 12.") for part in s)]
    assert masa12, "the measure is a section"
    # a measure sits under its specific objective, which sits under its policy
    assert any(s[0].startswith("POLITIKA 2") and s[1].startswith("Objektivi specifik 2.2") for s in masa12)
    paragraphs = [strategy.block_text(b) for b in strategy.blocks if b.section and b.section[-1].startswith("Masa 12.")]
    assert any("Plan-Veprimeve të KVSP-ve" in p for p in paragraphs)
    items = [b for b in strategy.blocks if b.kind == "list_item"]
    assert len(items) >= 205  # 205 List Bullet paragraphs plus the List Number ones
    assert sum(b.kind == "heading" for b in strategy.blocks) >= 51
    assert strategy.pages > 1  # the explicit page breaks of the file
    _spans_exact(strategy)
    assert guess_kind(STRATEGY.name, strategy) == "strategy"


def test_elbasan_plan_rows_carry_headers(elbasan):
    rows = [elbasan.block_text(b) for b in elbasan.blocks if b.kind == "table_row"]
    numbers = [re.match(r"Nr\.: ([\d.]+);", r).group(1) for r in rows]
    assert numbers == [f"1.{n}" for n in range(1, 11)]
    for row in rows:
        assert "Problematika e identifikuar:" in row and "Prioriteti: Prioritet i" in row
        assert "Institucioni përgjegjës për realizimin e aktivitetit:" in row
    assert "Drejtoria e Policisë/ Komisariati i Policisë Elbasan; Prokuroria e Rrethit Gjyqësor" in rows[0]
    # multi-paragraph cells: each numbered activity stays separate, none are lost
    assert all(f"{n}. " in rows[3] for n in range(1, 10))
    table = elbasan.tables[0]
    assert table.header_rows == 1 and len(table.rows) == 11
    assert table.rows[0][1] == "Problematika e identifikuar"
    assert table.rows[0][2].startswith("Prioriteti\n• Prioritet i lartë")
    assert table.rows[1][0] == "1.1" and table.spans[0] is None
    assert "\n" in table.rows[1][3]  # raw cells keep their paragraphs
    _spans_exact(elbasan)
    assert guess_kind(ELBASAN.name, elbasan) == "plan"


def test_lumez_plan_has_seven_rows():
    doc = _parse(LUMEZ_PLAN)
    rows = [doc.block_text(b) for b in doc.blocks if b.kind == "table_row"]
    assert len(rows) == 7
    assert all("Afati:" in r and "Aktivitetet që duhet të ndërmerren:" in r for r in rows)
    assert doc.tables[0].rows[0][5] == "Afati" and len(doc.tables[0].rows) == 8
    assert doc.title == "Plani vendor shumaktorial për sigurinë publike – Bashkia Lumëz, viti 2024"


def test_invitation_footnote_and_agenda():
    doc = _parse(INVITATION)
    footnotes = [doc.block_text(b) for b in doc.blocks if b.kind == "footnote"]
    assert len(footnotes) == 1 and footnotes[0].startswith("1 Për bashkinë Tiranë")
    assert doc.blocks[-1].kind == "footnote"
    agenda = [doc.block_text(b) for b in doc.blocks if b.kind == "table_row"]
    assert len(agenda) == 6 and agenda[0].startswith("Ora: 10:00 – 10:20; Tematika: Hapja e takimit")
    assert guess_kind(INVITATION.name, doc) == "invitation"


def test_regulation_articles_are_sections():
    doc = _parse(REGULATION)
    articles = [doc.block_text(b) for b in doc.blocks if b.kind == "heading" and doc.block_text(b).startswith("Neni")]
    assert len(articles) == 19
    quorum = next(b for b in doc.blocks if "gjysma plus një" in doc.block_text(b))
    assert quorum.section == ("KREU III – MBLEDHJET DHE VENDIMMARRJA", "Neni 11 – Kuorumi dhe vendimmarrja")
    assert guess_kind(REGULATION.name, doc) == "regulation"
    assert doc.title.startswith("Rregullore për organizimin")


def test_word_merged_cells_and_page_breaks():
    document = docx.Document()
    document.add_paragraph("Plani i testimit")
    document.add_paragraph("Dokumenti vazhdon").add_run().add_break(WD_BREAK.PAGE)
    document.add_paragraph("Faqja e dytë")
    table = document.add_table(rows=5, cols=4)
    for cell, text in zip(table.rows[0].cells, ["Nr.", "Problematika", "Aktivitetet", "Institucioni"]):
        cell.text = text
    for r, values in enumerate([["1", "Vjedhjet", "Patrullim", "Policia"],
                                ["", "", "Kamera", ""],
                                ["2", "Ndriçimi i rrugëve", "", "Bashkia"],
                                ["3", "Qentë", "Strehëz", ""]], start=1):
        for cell, text in zip(table.rows[r].cells, values):
            cell.text = text
    table.cell(1, 0).merge(table.cell(2, 0))  # row 2 continues row 1 (vertical merge on Nr.)
    table.cell(1, 1).merge(table.cell(2, 1))
    table.cell(3, 3).merge(table.cell(4, 3))  # one institution for rows 2 and 3
    table.cell(3, 1).merge(table.cell(3, 2))  # a horizontal merge: one cell, not two
    doc = parse_docx(_docx_bytes(document), "test")
    rows = [(b, doc.block_text(b)) for b in doc.blocks if b.kind == "table_row"]
    assert [text for _, text in rows] == [
        "Nr.: 1; Problematika: Vjedhjet; Aktivitetet: Patrullim; Kamera; Institucioni: Policia",
        "Nr.: 2; Problematika: Ndriçimi i rrugëve; Institucioni: Bashkia",
        "Nr.: 3; Problematika: Qentë; Aktivitetet: Strehëz; Institucioni: Bashkia",
    ]
    assert doc.blocks[0].page == 1 and rows[0][0].page == 2 and doc.pages == 2
    assert doc.tables[0].rows[1] == ["1", "Vjedhjet", "Patrullim\nKamera", "Policia"]


def test_text_cleans_html_and_reads_structure():
    raw = ("# Shënime pune\n\nKVSP&nbsp;Lumëz &amp; SKN<br>mbledhja nr. 1<br/>\n\n"
           "RENDI I DITËS\n- pika e parë\n* pika e dytë\n• pika e tretë\n✔ vendim\n1. detyra e parë që\nvazhdon\n\n"
           "<p>Paragraf me <b>fjalë</b> të theksuara.</p>\n\n"
           "| Nr. | Detyra | Afati |\n|---|---|---|\n| 1 | Raporti | 30.06.2024 |\n| 2 | Takimi | Qershor |\n\n"
           "Neni 3 – Kuorumi\nMbledhja është e vlefshme.\n")
    doc = parse_text(raw.encode("utf-8"), "notes")
    texts = [(b.kind, doc.block_text(b)) for b in doc.blocks]
    assert ("heading", "Shënime pune") in texts
    assert ("paragraph", "KVSP Lumëz & SKN\nmbledhja nr. 1") in texts
    assert ("heading", "RENDI I DITËS") in texts
    items = [t for k, t in texts if k == "list_item"]
    assert items == ["- pika e parë", "* pika e dytë", "• pika e tretë", "✔ vendim", "1. detyra e parë që\nvazhdon"]
    assert ("paragraph", "Paragraf me fjalë të theksuara.") in texts
    assert [t for k, t in texts if k == "table_row"] == ["Nr.: 1; Detyra: Raporti; Afati: 30.06.2024",
                                                         "Nr.: 2; Detyra: Takimi; Afati: Qershor"]
    assert doc.tables[0].rows[0] == ["Nr.", "Detyra", "Afati"]
    rule = next(b for b in doc.blocks if doc.block_text(b) == "Mbledhja është e vlefshme.")
    assert rule.section[-1] == "Neni 3 – Kuorumi"
    assert "<" not in doc.text and "&" not in doc.text.replace("& SKN", "")


def test_text_tab_table_with_continuation_rows_and_cell_paragraphs():
    raw = ("Tabela 1\n\nNr.\tProblematika\tPrioriteti\tAktivitetet\n"
           "1.1\tSiguria në shkollë\tPrioritet i lartë\t<p>1. Kamera</p> <p>2. Trajnime për</p>\t\n\n"
           "\t\t\t<p>mësuesit</p> <p>3. Pajisje</p>\t\n"
           "--\t---\t--\t---\n"
           "1.2\tDhuna në familje\tPrioritet i lartë\t1. Konsultime\t\n\nShënim: fund.\n")
    doc = parse_text(raw.encode("utf-8"), "plan")
    rows = [doc.block_text(b) for b in doc.blocks if b.kind == "table_row"]
    assert rows == [
        "Nr.: 1.1; Problematika: Siguria në shkollë; Prioriteti: Prioritet i lartë; "
        "Aktivitetet: 1. Kamera; 2. Trajnime për mësuesit; 3. Pajisje",
        "Nr.: 1.2; Problematika: Dhuna në familje; Prioriteti: Prioritet i lartë; Aktivitetet: 1. Konsultime",
    ]
    assert doc.tables[0].rows[1][3] == "1. Kamera\n2. Trajnime për\nmësuesit\n3. Pajisje"
    assert doc.block_text(doc.blocks[-1]) == "Shënim: fund."


def test_text_encodings_and_ocr_repair():
    assert parse_text("Këshilli Vendor".encode("cp1252"), "t").text == "Këshilli Vendor"
    assert parse_text(b"\xef\xbb\xbfK\xc3\xabshilli", "t").text == "Këshilli"
    assert parse_text("Këshilli".encode("utf-16"), "t").text == "Këshilli"
    ocr = parse_text((ROOT / "tests" / "fixtures" / "mekanizmat-ekzistues-kvsp-ocr.txt").read_bytes(), "ocr")
    assert ocr.meta.get("ocr_repaired") is True
    assert ocr.text.count("é") < 50 and "Mekanizmi kundër trafikut" in ocr.text


def test_html_page():
    page = ("<!DOCTYPE html><html><head><title>x</title><style>p{}</style></head><body>"
            "<h1>Plani 2024</h1><p>Hyrje&nbsp;e shkurtër.</p><ul><li>një</li><li>dy</li></ul>"
            "<table><tr><th>Nr.</th><th>Detyra</th></tr><tr><td>1</td><td><p>Raport</p><p>mujor</p></td></tr>"
            "</table></body></html>")
    doc = parse_text(page.encode(), "page")
    texts = [(b.kind, doc.block_text(b)) for b in doc.blocks]
    assert texts == [("heading", "Plani 2024"), ("paragraph", "Hyrje e shkurtër."), ("list_item", "- një"),
                     ("list_item", "- dy"), ("table_row", "Nr.: 1; Detyra: Raport mujor")]


def test_bad_input_gives_error_codes(tmp_path):
    def code(filename, data):
        with pytest.raises(IngestError) as info:
            parse_file(filename, data)
        return info.value.code

    assert code("plan.docx", b"this is not a zip file at all") == "corrupt_docx"
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    assert code("plan.docx", other_zip.getvalue()) == "corrupt_docx"
    assert code("archive.zip", other_zip.getvalue()) == "unsupported_type"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            for _ in range(40):
                member.write(b"\0" * 1024 * 1024)
    assert len(bomb.getvalue()) < 1024 * 1024
    assert code("bomb.docx", bomb.getvalue()) == "zip_bomb"
    assert code("empty.txt", b"") == "empty_file"
    assert code("blank.md", b"  \n\t\n ") == "empty_file"
    assert code("binary.txt", b"abc\x00\x01\x02def") == "unsupported_type"
    assert code("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256))) == "unsupported_type"
    assert code("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100) == "unsupported_type"
    message = pytest.raises(IngestError, parse_file, "sheet.xlsx", other_zip.getvalue()).value.message
    assert "PDF, DOCX, TXT, MD" in message


def test_dispatch_by_magic_bytes_and_titles():
    doc = parse_file("../../etc/renamed.txt", LUMEZ_PLAN.read_bytes())  # a Word file whatever its name
    assert any(b.kind == "table_row" for b in doc.blocks)
    notes = SAMPLES / "shenime-sekretari-gurras-2024-11-07.txt"
    parsed = _parse(notes)
    assert guess_title(notes.name, parsed) == "Shenime sekretari gurras 2024 11 07"
    assert guess_kind(notes.name, parsed) == "notes"
    minutes = _parse(SAMPLES / "procesverbal-kvsp-lumez-2024-03-14.docx")
    assert guess_kind("procesverbal-kvsp-lumez-2024-03-14.docx", minutes) == "minutes"
    assert guess_kind("dokument.txt", parse_text(b"Tekst i thjeshte pa asgje te vecante.", "x")) == "other"
