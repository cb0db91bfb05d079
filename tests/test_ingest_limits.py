"""Bounded uploads: what one file may cost to read (ingest/limits.py), over real files built from
the bundled corpus, through the parsers and through the upload route."""
import io
import random
import re
import time
import zipfile

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ingest.dispatch import parse_file
from ingest.limits import DEFAULT_LIMITS, Limits
from ingest.model import IngestError
from tests.conftest import CORPUS

STRATEGY = CORPUS / "strategjia-sigurise-ne-komunitet-2021-2026.docx"
GUIDE = CORPUS / "udherrefyes-ngritja-funksionimi-kvsp.pdf"
WORDS = "këshilli siguria publike bashkia policia shkolla rinia dhuna parandalimi komuniteti raporti masa".split()


def rezip(source: bytes, replace: dict[str, bytes]) -> bytes:
    """A copy of a DOCX with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item.filename, replace.pop(item.filename, None) or old.read(item.filename))
        for name, data in replace.items():
            new.writestr(name, data)
    return out.getvalue()


def big_document_xml(megabytes: int) -> bytes:
    """A valid document.xml of varied paragraphs: it compresses far less than a zip bomb (under 100×)."""
    rnd = random.Random(7)
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    parts, size = [head], len(head)
    while size < megabytes * 2**20:
        text = " ".join(rnd.choice(WORDS) + str(rnd.randrange(10**6)) for _ in range(40))
        part = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()
        parts.append(part)
        size += len(part)
    return b"".join(parts) + b"</w:body></w:document>"


def refused(call, code: str, seconds: float = 5.0) -> IngestError:
    start = time.monotonic()
    with pytest.raises(IngestError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    assert time.monotonic() - start < seconds
    return caught.value


def test_a_docx_whose_xml_inflates_past_the_cap_is_refused_fast():
    """The 190 MB-XML case of the attack, smaller: 40 MB of XML, honest headers, a ratio no bomb check sees."""
    data = rezip(STRATEGY.read_bytes(), {"word/document.xml": big_document_xml(40)})
    member = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    assert member.file_size < 100 * member.compress_size  # the header-based checks let it through
    error = refused(lambda: parse_file("madh.docx", data), "too_large")
    assert "word/document.xml" in error.message and "kalon" in error.message


def test_a_docx_header_that_lies_is_not_trusted():
    """The central directory claims a tiny document.xml: what inflates is counted instead."""
    data = bytearray(rezip(STRATEGY.read_bytes(), {"word/document.xml": big_document_xml(40)}))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    name = b"word/document.xml"
    # the uncompressed size: at byte 22 of the local header, at byte 24 of its central-directory entry
    offsets = [info.header_offset + 22] + [m.start() + 24 for m in re.finditer(b"PK\x01\x02", data)
                                           if data[m.start() + 46:m.start() + 46 + len(name)] == name]
    for offset in offsets:
        data[offset:offset + 4] = (1000).to_bytes(4, "little")
    assert len(offsets) == 2 and zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml").file_size == 1000
    refused(lambda: parse_file("genjeshtar.docx", bytes(data)), "corrupt_docx")


def test_a_docx_with_a_broken_footnotes_part_is_a_clear_error():
    data = rezip(STRATEGY.read_bytes(), {"word/footnotes.xml": b"<w:footnotes xmlns:w='x'><w:footnote"})
    refused(lambda: parse_file("shenime.docx", data), "corrupt_docx")


def pdf_of_image(points: float) -> bytes:
    """A one-page 'scan' whose page box is `points` wide and high (an image at a low resolution)."""
    out = io.BytesIO()
    Image.new("L", (100, 100), 255).save(out, "PDF", resolution=100 * 72 / points)
    return out.getvalue()


def test_a_huge_page_box_is_refused_before_it_is_rendered():
    error = refused(lambda: parse_file("harte.pdf", pdf_of_image(7200)), "too_large", seconds=2)
    assert "7200 × 7200" in error.message


def test_too_many_pages_are_refused():
    import pypdf

    writer = pypdf.PdfWriter()
    for _ in range(DEFAULT_LIMITS.max_pages + 1):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    error = refused(lambda: parse_file("faqe.pdf", out.getvalue()), "too_large", seconds=10)
    assert "faqe" in error.message


def test_text_beyond_the_character_cap_is_refused():
    line = "Këshilli vendor i sigurisë publike mblidhet çdo muaj.\n"
    data = (line * (DEFAULT_LIMITS.max_chars // len(line) + 10)).encode()
    refused(lambda: parse_file("gjate.txt", data), "too_large")


def test_the_deadline_stops_a_slow_file():
    from ingest.formats.docx import parse_docx

    refused(lambda: parse_docx(STRATEGY.read_bytes(), "strategjia", Limits(max_seconds=0)), "too_slow")
    assert parse_docx(STRATEGY.read_bytes(), "strategjia").text  # the default leaves a real document alone


def guide_with_a_broken_page(page: int = 3) -> bytes:
    """The bundled guide with page `page`'s only content stream replaced by bytes that do not inflate."""
    import pypdf
    from pypdf.generic import NameObject, StreamObject

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(GUIDE))
    broken = StreamObject()
    broken.set_data(b"this is not a deflated stream at all " * 20)
    broken[NameObject("/Filter")] = NameObject("/FlateDecode")
    writer.pages[page - 1][NameObject("/Contents")] = writer._add_object(broken)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_damaged_pdf_pages_are_reported_not_lost_silently():
    doc = parse_file("udherrefyes.pdf", guide_with_a_broken_page(3))
    assert doc.meta["damaged_pages"] == [3]
    assert "damaged_pages" not in parse_file("udherrefyes.pdf", GUIDE.read_bytes()).meta


def test_damaged_pages_are_told_in_albanian_with_the_upload_and_on_the_document_page(fresh_app):
    with TestClient(fresh_app) as client:
        response = client.post("/api/documents", files={"file": ("udherrefyes-e-demtuar.pdf",
                                                                 guide_with_a_broken_page(3), "application/pdf")})
        assert response.status_code == 201
        body = response.json()
        assert body["document"]["meta"]["damaged_pages"] == [3]
        assert len(body["warnings"]) == 1 and body["warnings"][0].startswith("Faqja 3 e PDF-së nuk u lexua plotësisht")
        page = client.get(f"/documents/{body['document']['id']}")
        assert page.status_code == 200 and "Faqja 3 e PDF-së nuk u lexua plotësisht" in page.text
        clean = client.post("/api/documents", files={"file": ("udherrefyes.pdf", GUIDE.read_bytes(), "application/pdf")})
        assert clean.json()["warnings"] == []
        assert "nuk u lexua plotësisht" not in client.get(f"/documents/{clean.json()['document']['id']}").text


def test_bit_flipped_corpus_files_are_read_or_refused_never_crash():
    rnd = random.Random(16)
    for path in (GUIDE, STRATEGY):
        original = path.read_bytes()
        for _ in range(12):
            data = bytearray(original)
            for _ in range(3):
                position = rnd.randrange(len(data))
                data[position] ^= 1 << rnd.randrange(8)
            try:
                parse_file(path.name, bytes(data[: rnd.choice((len(data), len(data) // 2))]))
            except IngestError:
                pass  # a refusal with a reason is the right answer for a damaged file


def test_an_oversized_upload_is_413_in_albanian_and_stores_nothing(fresh_app):
    with TestClient(fresh_app) as client:
        before = client.get("/api/documents").json()["documents"]
        line = "Shënime të mbledhjes së KVSP për sigurinë në lagje.\n"
        data = (line * (DEFAULT_LIMITS.max_chars // len(line) + 10)).encode()
        response = client.post("/api/documents", files={"file": ("shenime.txt", data, "text/plain")})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "too_large" and "kufiri" in response.json()["error"]["message"]
        bomb = client.post("/api/documents", files={"file": ("harte.pdf", pdf_of_image(7200), "application/pdf")})
        assert bomb.status_code == 413
        assert client.get("/api/documents").json()["documents"] == before


def encrypted_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(GUIDE))
    writer.encrypt("fjalekalim")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_bad_uploads_get_a_clear_status_and_the_stored_documents_stay(fresh_app):
    """Each bad file is refused with its own status and a message; what was stored before is intact."""
    bomb = rezip(STRATEGY.read_bytes(), {"word/document.xml": b"<w:document/>" + b" " * (300 * 2**20)})
    cases = [
        ("bombe.docx", bomb, 422, {"zip_bomb"}),  # the header check refuses it first
        ("harte.pdf", pdf_of_image(7200), 413, {"too_large"}),
        ("mbrojtur.pdf", encrypted_pdf(), 422, {"encrypted_pdf"}),
        ("prishur.pdf", b"%PDF-1.7\n" + bytes(random.Random(3).randrange(256) for _ in range(4000)), 422,
         {"corrupt_pdf"}),
        ("program.exe", b"MZ\x90\x00" + bytes(range(256)) * 8, 415, {"unsupported_type"}),
    ]
    with TestClient(fresh_app) as client:
        kept = client.post("/api/documents", files={"file": ("shenime.txt", "Këshilli vendor i sigurisë publike "
                                                               "mblidhet çdo muaj në bashki.\n".encode(), "text/plain")})
        assert kept.status_code < 300, kept.text
        before = client.get("/api/documents").json()["documents"]
        for name, data, status, codes in cases:
            response = client.post("/api/documents", files={"file": (name, data, "application/octet-stream")})
            error = response.json()["error"]
            assert error["code"] in codes, (name, response.status_code, error)
            assert response.status_code == status, (name, error)
            assert error["message"], name
        assert client.get("/api/documents").json()["documents"] == before
