"""Uploading documents over the API: versions, content hashes, and every kind of bad input."""
import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CORPUS, FIXTURES, SAMPLES


@pytest.fixture()
def writable(fresh_services):
    from web.app import create_app

    with TestClient(create_app(fresh_services.settings, fresh_services)) as c:
        yield c, fresh_services


def upload(client, name: str, data: bytes):
    return client.post("/api/documents", files={"file": (name, data, "application/octet-stream")})


def test_upload_same_bytes_twice_stores_once(writable):
    client, svc = writable
    data = (SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt").read_bytes()
    first = upload(client, "konsultim.txt", data)
    assert first.status_code == 201
    doc = first.json()["document"]
    assert doc["chunks"] > 0 and len(doc["sha256"]) == 64
    again = upload(client, "konsultim-kopje.txt", data)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert again.json()["document"]["id"] == doc["id"]
    assert len(client.get("/api/documents").json()["documents"]) == 1


def test_changed_file_becomes_new_version_and_old_chunks_leave(writable):
    client, svc = writable
    v1 = upload(client, "shenime.txt", "Mbledhja e KVSP-së u mbajt në sallën e bashkisë.\n\nUjësjellësi prishur.".encode())
    doc_id = v1.json()["document"]["id"]
    v2 = upload(client, "shenime.txt", "Mbledhja e KVSP-së u mbajt në shkollën Naim Frashëri.".encode())
    assert v2.status_code == 201
    assert v2.json()["document"]["id"] == doc_id and v2.json()["document"]["version"] == 2
    texts = [c["text"] for c in client.get(f"/api/documents/{doc_id}").json()["chunks"]]
    assert all("Ujësjellësi" not in t for t in texts)
    hits = svc.retriever.search("ujësjellësi prishur", k=5)
    assert all("Ujësjellësi" not in h.chunk.text for h in hits)


def _assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(FIXTURES / "plani-nderinstitucional-parandalimi-krimit-elbasan.pdf").pages[:1]:
        writer.add_page(page)
    writer.encrypt("sekret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("name, make, status", [
    ("bosh.txt", lambda: b"", 422),
    ("foto.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415),
    ("prishur.pdf", lambda: b"%PDF-1.7\n" + b"garbage" * 50, 422),
    ("koduar.pdf", _encrypted_pdf, 422),
    ("jo-zip.docx", lambda: b"this is not a zip file at all", 422),
    ("bombe.docx", _zip_bomb, 422),
])
def test_bad_files_get_a_clear_error_and_harm_nothing(writable, name, make, status):
    client, svc = writable
    good = upload(client, "ftese.docx", (CORPUS / "ftese-tryeze-diskutimi-kvsp-25-nentor-2021.docx").read_bytes())
    assert good.status_code == 201
    before = client.get("/api/documents").json()
    _assert_error(upload(client, name, make()), status)
    assert client.get("/api/documents").json() == before
    assert svc.retriever.search("tryeza e diskutimit", k=3)


def test_upload_over_the_limit_is_refused(writable):
    client, svc = writable
    svc.settings.upload_limit_mb = 1
    _assert_error(upload(client, "madh.txt", b"a " * (1024 * 1024)), 413, "too_large")
    assert client.get("/api/documents").json()["documents"] == []


def test_uploaded_name_never_becomes_a_path(writable, tmp_path):
    client, svc = writable
    response = upload(client, "../../../../tmp/evil.txt", "Teksti i dokumentit për KVSP.".encode())
    assert response.status_code == 201
    assert response.json()["document"]["filename"] == "evil.txt"
    stored = [p for p in svc.settings.data_dir.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(svc.settings.data_dir.resolve()) for p in stored)
    assert not any(p.name == "evil.txt" for p in stored)


def test_unknown_document_is_404(client):
    _assert_error(client.get("/api/documents/nope"), 404, "not_found")


def test_malformed_query_is_422(client):
    _assert_error(client.get("/api/search", params={"q": "siguria", "k": "shumë"}), 422, "invalid_request")



def _blank_scan() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (1654, 1169), 255).save(out, "PDF", resolution=200)
    return out.getvalue()


def test_a_scan_that_ocr_cannot_read_is_refused_and_nothing_is_stored(writable):
    client, svc = writable
    _assert_error(upload(client, "skanim-bosh.pdf", _blank_scan()), 422, "no_text")
    svc.settings.ocr_lang = "zzz"  # a tesseract language that is not installed
    scan = (CORPUS / "mekanizmat-ekzistues-kvsp-skanuar.pdf").read_bytes()
    response = upload(client, "skanim.pdf", scan)
    _assert_error(response, 422, "ocr_unavailable")
    assert "tesseract" in response.json()["error"]["message"]
    assert client.get("/api/documents").json()["documents"] == []
