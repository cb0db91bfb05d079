"""A real browser on the secretary's pages: notes -> corrected procesverbal -> .docx, and plan proposals ->
approved plan -> XLSX/CSV; document text stays text; the main actions work from the keyboard.
Debian's chromium driven by Playwright over the session app."""
import csv
import io

from tests.conftest import SAMPLES

MINUTES_NOTES = SAMPLES / "shenime-sekretari-gurras-2024-11-07.txt"
CONSULTATION = SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt"
PAYLOAD = "<img src=x onerror=alert(1)>"


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches `selector` (the element is reachable by keyboard)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def field(page, key: str):
    return page.locator(f'#fields [data-key="{key}"]')


def people(page) -> dict[str, list[str]]:
    """Attendance rows of the form: name -> the groups it appears in."""
    found: dict[str, list[str]] = {}
    for row in page.locator("#people tbody tr").all():
        name = row.locator("input").first.input_value()
        found.setdefault(name, []).append(row.locator("select").input_value())
    return found


def settled(page, act) -> None:
    """Run `act` and wait for the plan page's message: the page updates in place, without a reload."""
    from playwright.sync_api import expect

    page.evaluate("document.getElementById('plan-message').textContent = ''")
    act()
    expect(page.locator("#plan-message")).not_to_have_text("")  # a locator: the page's CSP forbids eval


def proposing(page, act) -> list[dict]:
    """Run `act` (which makes the page propose rows and reload); the rows the server created. The
    response is read on its way to the page: its body is gone once the page reloads."""
    created = []

    def keep(route):
        response = route.fetch()
        assert response.ok, response.text()
        created.extend(response.json()["rows"])
        route.fulfill(response=response)

    page.route("**/api/plan/propose", keep)
    settled(page, act)
    page.unroute("**/api/plan/propose")
    return created


def propose(page, text: str) -> list[dict]:
    """Propose plan rows from `text` through the page's form."""
    page.fill("#concerns", text)
    return proposing(page, lambda: page.click("#propose button[type=submit]"))


def api(page, path: str) -> dict:
    response = page.request.get(path)
    assert response.ok
    return response.json()


# ---- minutes -------------------------------------------------------------------------------------

def test_minutes_notes_to_corrected_draft_with_sources_and_docx(live_url, page):
    from docx import Document

    page.goto(live_url + "/minutes")
    page.fill("#notes", MINUTES_NOTES.read_text(encoding="utf-8"))
    page.click("#analyse")
    page.locator("#step-draft").wait_for()

    assert field(page, "meeting_number").input_value() == "2/2024"
    assert field(page, "date").input_value() == "2024-11-07"
    attendance = people(page)
    assert attendance["A. Sula"] == ["present"] and attendance["J. Kristo"] == ["absent"]
    assert "late" in attendance["T. Mullaj"]  # arrived at 10:20
    assert page.locator("#draft").inner_text().count("Vendi: Salla e mbledhjeve, kati 3") == 1

    field(page, "place").fill("Salla e Këshillit Bashkiak, kati 2")
    page.click("#redraft")
    draft = page.locator("#draft")
    draft.get_by_text("Vendi: Salla e Këshillit Bashkiak, kati 2.").wait_for()
    assert "kati 3" not in draft.inner_text()

    source = page.locator("#draft-source")
    draft.get_by_text("Mbledhja u zhvillua më 07.11.2024.").hover()
    assert "07/11/2024" in source.inner_text()  # the notes line the date comes from
    page.mouse.move(0, 0)  # off the draft, so scrolling to the focused sentence slides none under the pointer
    draft.get_by_text("3. K. Malaj – drejtues i Komisariatit të Policisë Gurras").focus()
    assert "K. Malaj, drejtues i Komisariatit të Policisë Gurras" in source.inner_text()

    # Note lines the reader could not place are listed in the draft, and export asks first.
    page.expected_dialogs = ("Drafti ka rreshta që nuk u lexuan",)
    with page.expect_download() as download:
        page.click("#download")
    assert page.dialogs and "nuk u lexuan" in page.dialogs[0]
    doc = Document(download.value.path())
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Salla e Këshillit Bashkiak, kati 2" in text and "2/2024" in text
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert any("A. Sula" in c for c in cells) and any("J. Kristo" in c for c in cells)

    artifact_id = page.get_attribute("#download", "href").split("/")[-1].removesuffix(".docx")
    artifact = api(page, f"{live_url}/api/artifacts/{artifact_id}")
    artifact = artifact.get("artifact", artifact)
    assert artifact["corrections"][-1]["meeting"]["place"] == "Salla e Këshillit Bashkiak, kati 2"


def test_minutes_source_offsets_survive_emoji_in_the_notes(live_url, page):
    notes = MINUTES_NOTES.read_text(encoding="utf-8").replace("SHEMBULL", "📌 SHEMBULL 😀", 1)
    page.goto(live_url + "/minutes")
    page.fill("#notes", notes)
    page.click("#analyse")
    page.locator("#draft").get_by_text("Mbledhja u zhvillua më 07.11.2024.").hover()
    shown = page.locator("#draft-source").inner_text().split("\n", 1)[1]
    assert shown.startswith("07/11/2024")  # the date's own line, not shifted by the emoji before it


# ---- plan ----------------------------------------------------------------------------------------

def test_plan_propose_edit_approve_reject_and_export(live_url, page):
    from openpyxl import load_workbook

    page.goto(live_url + "/plan")
    rows = propose(page, CONSULTATION.read_text(encoding="utf-8"))
    assert len(rows) >= 3
    by_quote = {r["source"]["quote"]: r for r in rows}
    lights = next(r for q, r in by_quote.items() if "46 shtylla" in q)
    dogs = next(r for q, r in by_quote.items() if "qentë endacakë" in q)
    racing = next(r for q, r in by_quote.items() if "gara me makina" in q)
    box = lambda r: page.locator(f'.proposal[data-id="{r["id"]}"]')  # noqa: E731
    for r in (lights, dogs, racing):  # each proposal shows the notes it comes from
        assert r["source"]["quote"][:40] in box(r).locator("blockquote").inner_text()

    box(dogs).locator('[name="deadline_text"]').fill("Brenda 2 muajve")
    box(dogs).locator('[name="activities"]').fill("Kapja dhe strehimi i qenve\nFushatë informuese te tregu")
    settled(page, lambda: box(dogs).locator("button.save").click())
    assert box(dogs).locator('[name="deadline_text"]').input_value() == "Brenda 2 muajve"
    assert "Ndryshuar" in box(dogs).inner_text()  # edited, still waiting

    box(lights).locator('[name="priority"]').select_option("i lartë")
    settled(page, lambda: box(lights).locator("button.approve").click())
    plan_row = page.locator(f'table.plan tr[data-id="{lights["id"]}"]')
    assert "46 shtylla" in plan_row.inner_text() and "i lartë" in plan_row.inner_text()
    assert box(lights).count() == 0

    box(racing).locator('[name="reason"]').fill("Mbulohet nga plani i policisë")
    box(racing).locator("button.reject").click()
    settled(page, lambda: box(racing).locator(".confirm-yes").click())  # reject asks to confirm first
    assert box(racing).is_hidden() and box(racing).get_attribute("data-state") == "rejected"
    page.select_option("#show", "rejected")  # rejected rows stay visible under their filter
    assert box(racing).is_visible() and "Mbulohet nga plani i policisë" in box(racing).inner_text()
    assert page.locator(f'tr[data-id="{racing["id"]}"]').count() == 0
    detail = api(page, f"{live_url}/api/plan/rows/{racing['id']}")
    assert detail["row"]["state"] == "rejected"
    assert detail["history"][-1]["reason"] == "Mbulohet nga plani i policisë"

    with page.expect_download() as download:
        page.click('a[href="/api/plan/export?format=xlsx"]')
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as f:
        sheet = load_workbook(f).active
    from datetime import date
    assert date.today().strftime("%d.%m.%Y") in str(sheet["A1"].value)  # the heading dates the export
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert any(lights["problem"] in c for c in cells)
    assert not any(racing["problem"] in c for c in cells)
    with page.expect_download() as download:
        page.click('a[href="/api/plan/export?format=csv"]')
    assert download.value.suggested_filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert any(lights["problem"] in cell for row in table for cell in row)


# ---- escaping ------------------------------------------------------------------------------------

def test_document_text_is_shown_as_text_never_as_html(live_url, page):
    notes = MINUTES_NOTES.read_text(encoding="utf-8").replace(
        "– s'ka patrullë nate fikse", f"– {PAYLOAD} s'ka patrullë nate fikse", 1)
    page.goto(live_url + "/minutes")
    page.fill("#notes", notes)
    page.click("#analyse")
    page.locator("#step-draft").wait_for()
    assert PAYLOAD in page.locator("#draft").inner_text()
    page.locator("#draft").get_by_text(PAYLOAD).hover()
    assert PAYLOAD in page.locator("#draft-source").inner_text()
    assert page.locator("img").count() == 0

    page.goto(live_url + "/plan")
    [row] = propose(page, f"Banorët e lagjes Kodra: vjedhje në banesa natën {PAYLOAD}, 5 raste në dhjetor.")
    proposal = page.locator(f'.proposal[data-id="{row["id"]}"]')
    assert PAYLOAD in proposal.locator("blockquote").inner_text()
    assert PAYLOAD in proposal.locator('[name="problem"]').input_value()
    settled(page, lambda: proposal.locator("button.approve").click())
    assert PAYLOAD in page.locator(f'table.plan tr[data-id="{row["id"]}"]').inner_text()
    assert page.locator("img").count() == 0
    page.wait_for_timeout(300)  # a broken image's onerror would have fired by now (the page fixture checks)


# ---- keyboard ------------------------------------------------------------------------------------

def test_minutes_main_actions_work_from_the_keyboard(live_url, page):
    page.goto(live_url + "/minutes?lang=en")
    tab_to(page, "#notes")
    page.keyboard.insert_text(MINUTES_NOTES.read_text(encoding="utf-8"))
    tab_to(page, "#analyse")
    page.keyboard.press("Enter")
    page.locator("#step-draft").wait_for()
    assert field(page, "meeting_number").input_value() == "2/2024"

    tab_to(page, '#fields [data-key="chair"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("M. Kaçulini-Dema")
    tab_to(page, "#redraft")
    page.keyboard.press("Enter")
    page.locator("#draft").get_by_text("Mbledhjen e drejtoi M. Kaçulini-Dema.").wait_for()

    tab_to(page, "#draft span")  # sentences take focus and show their source
    assert page.locator("#draft-source").inner_text().startswith("Source in the notes")
    tab_to(page, "#download")
    page.expected_dialogs = ("note lines that could not be read",)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "procesverbal-2-2024.docx"


def test_plan_main_actions_work_from_the_keyboard(live_url, page):
    page.goto(live_url + "/plan?lang=en")
    tab_to(page, "#concerns")
    page.keyboard.insert_text("Prindërit e shkollës „Drita”: mungon vendkalimi për këmbësorë, 2 aksidente në shkurt.")
    tab_to(page, "#propose button[type=submit]")
    [row] = proposing(page, lambda: page.keyboard.press("Enter"))
    assert page.locator("h1").inner_text() == "Local multi-actor plan"
    assert page.get_by_label("Reason (for rejecting)").count() >= 1  # new UI text is translated

    tab_to(page, f'.proposal[data-id="{row["id"]}"] [name="deadline_text"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("Para fillimit të vitit shkollor")
    tab_to(page, f'.proposal[data-id="{row["id"]}"] button.approve')
    settled(page, lambda: page.keyboard.press("Enter"))
    plan_row = page.locator(f'table.plan tr[data-id="{row["id"]}"]')
    assert "Para fillimit të vitit shkollor" in plan_row.inner_text()


# ---- sources of plan rows ------------------------------------------------------------------------

def test_plan_rows_from_pasted_text_link_to_their_span_and_their_trace(live_url, page):
    concerns = ("Takimi me banorët, 12 mars.\n"
                "Banorët e lagjes Kodra: vjedhje në banesa natën, 5 raste në dhjetor.")
    page.goto(live_url + "/plan")
    [row] = propose(page, concerns)
    proposal = page.locator(f'.proposal[data-id="{row["id"]}"]')
    link = proposal.locator("a.in-input")
    assert link.inner_text() == "Shfaqe në tekstin e dhënë"
    settled(page, lambda: proposal.locator("button.approve").click())
    plan_row = page.locator(f'table.plan tr[data-id="{row["id"]}"]')
    plan_row.locator("a.in-input").click()  # the approved row keeps its link

    page.wait_for_url("**/trace/**")
    mark = page.locator("pre.input mark#hl")
    assert mark.inner_text() == row["source"]["quote"] == concerns[row["source"]["start"]:row["source"]["end"]]
    assert page.locator("pre.input").inner_text() == concerns  # the pasted text itself, stored

    page.go_back()
    page.locator(f'table.plan tr[data-id="{row["id"]}"] a.row-trace').click()
    page.wait_for_url(f"**/trace/{row['id']}")
    main = page.locator("main")
    assert "Nuk ka objekt" not in main.inner_text() and "Asnjë burim i cituar" not in main.inner_text()
    assert row["problem"] in main.locator("table.fields").first.inner_text()
    assert row["source"]["quote"] in page.locator(".result.source blockquote").first.inner_text()
    assert page.locator("mark#hl").inner_text() == row["source"]["quote"]  # its span, highlighted
    assert "Miratoi rresht plani" in page.locator("table.audit").inner_text()
