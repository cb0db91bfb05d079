"""A real browser on the documents page, over an empty data folder: upload by the file picker with
a progress bar and the new row without a reload, Albanian errors for files that cannot be read,
filter and title search, delete after an inline confirmation. At a desk and on a phone."""
import io
import json
import zipfile

import pypdf
import pytest

from tests.conftest import CORPUS, SAMPLES, SCREENS

GUIDE = CORPUS / "udherrefyes-ngritja-funksionimi-kvsp.pdf"  # the 11-page guidebook
NOTES = SAMPLES / "shenime-sekretari-gurras-2024-11-07.txt"
SQ = {k: v["sq"] for k, v in json.loads((CORPUS.parent / "web" / "i18n.json").read_text(encoding="utf-8")).items()}


def rows(page) -> list[str]:
    """The titles of the listed documents that are shown (not hidden by the filter)."""
    return [r.locator("a").first.inner_text() for r in page.locator("#docs tbody tr[data-id]:visible").all()]


def upload(page, path) -> object:
    """Choose `path` with the page's file picker; the upload's entry in the list."""
    page.set_input_files("#file", str(path))
    return page.locator("#uploads li", has_text=path.name).first


@pytest.mark.parametrize("page", SCREENS.values(), ids=SCREENS.keys(), indirect=True)
def test_upload_shows_progress_then_the_row_without_a_reload(fresh_url, page):
    page.goto(fresh_url + "/documents")
    assert rows(page) == []
    page.evaluate("window.kvspSamePage = true")  # gone if the page reloads

    item = upload(page, GUIDE)
    bar = item.locator("progress")
    bar.wait_for()
    seen = set()  # the bar's values until the job is done: it moves, it does not jump from 0 to done
    while "done" not in (item.get_attribute("class") or "") and "failed" not in (item.get_attribute("class") or ""):
        seen.add(int(float(bar.get_attribute("value") or 0)))
        page.wait_for_timeout(100)
    assert "done" in item.get_attribute("class"), item.inner_text()
    assert any(0 < v < 100 for v in seen), seen
    assert SQ["doc.added"] in item.inner_text()

    page.locator("#docs tbody tr[data-id]").first.wait_for()
    [title] = rows(page)
    assert "Udhërrëfyes" in title
    assert page.locator("#doc-count").inner_text() == SQ["doc.shown"].format(n=1, total=1)
    assert page.evaluate("window.kvspSamePage === true")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("page", SCREENS.values(), ids=SCREENS.keys(), indirect=True)
def test_files_that_cannot_be_read_get_an_albanian_error(fresh_url, page, tmp_path):
    page.goto(fresh_url + "/documents")
    picture = tmp_path / "harta.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    item = upload(page, picture)
    error = item.locator(".error[role=alert]")
    assert error.inner_text() == SQ["doc.error.unsupported_type"].format(ext="png")

    broken = tmp_path / "raport.pdf"  # named as a PDF, not one: the server's job fails and says why
    broken.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    item = upload(page, broken)
    item.locator(".error[role=alert]").wait_for()
    assert item.locator(".error").inner_text() == SQ["doc.error.corrupt"]

    bomb = tmp_path / "bombe.docx"  # a member of 8 MB of zeros, deflated to a few KB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/zero.bin", bytes(8 * 2**20))
    locked = tmp_path / "i-mbyllur.pdf"
    writer = pypdf.PdfWriter(clone_from=io.BytesIO((SAMPLES / "procesverbal-kvsp-lumez-2024-10-03.pdf").read_bytes()))
    writer.encrypt("fjalekalim", algorithm="AES-256")
    with locked.open("wb") as out:
        writer.write(out)
    for path, key in ((bomb, "doc.error.zip_bomb"), (locked, "doc.error.encrypted_pdf")):
        item = upload(page, path)
        item.locator(".error[role=alert]").wait_for(timeout=60_000)
        assert item.locator(".error").inner_text() == SQ[key]  # the page's Albanian, not the API's English
    assert rows(page) == []


@pytest.mark.parametrize("page", SCREENS.values(), ids=SCREENS.keys(), indirect=True)
def test_filter_search_and_delete_with_confirmation(fresh_url, page):
    page.goto(fresh_url + "/documents")
    for path in (GUIDE, NOTES):
        upload(page, path)
    page.locator("#uploads li.done, #uploads li.failed").nth(1).wait_for(timeout=90_000)
    assert page.locator("#uploads li.done").count() == 2, page.locator("#uploads").inner_text()
    page.locator("#docs tbody tr[data-id]").nth(1).wait_for()
    assert len(rows(page)) == 2

    kinds = page.locator("#kind option").all_inner_texts()
    assert SQ["kind.guide"] in kinds
    page.select_option("#kind", label=SQ["kind.guide"])
    [only] = rows(page)
    assert "Udhërrëfyes" in only
    assert page.locator("#doc-count").inner_text() == SQ["doc.shown"].format(n=1, total=2)
    page.select_option("#kind", "")
    page.fill("#title-q", "udherrefyes")  # without the diacritics, as typed on a phone
    assert rows(page) == [only]
    page.fill("#title-q", "")
    assert len(rows(page)) == 2

    guide = page.locator("#docs tbody tr[data-id]", has_text="Udhërrëfyes")
    doc_id = guide.get_attribute("data-id")
    guide.locator("button.do-delete").click()
    guide.locator(".confirm-no").click()  # asking is not deleting
    assert len(rows(page)) == 2 and guide.locator("button.do-delete").is_visible()
    guide.locator("button.do-delete").click()
    guide.locator(".confirm-yes").click()
    page.locator(f'#docs tr[data-id="{doc_id}"]').wait_for(state="detached")
    assert len(rows(page)) == 1
    assert SQ["doc.deleted"].split("{")[0] in page.locator("#doc-message").inner_text()
    listed = page.request.get(fresh_url + "/api/documents").json()["documents"]
    assert [d["id"] for d in listed if d["id"] == doc_id] == []
