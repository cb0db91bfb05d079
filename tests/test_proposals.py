"""Citizens' concerns -> proposed plan rows, scored the way run_extract.py scores /api/plan/propose."""
import json
import sys

from assistant.plan.proposals import (find_concerns, is_attendance, propose_rows, retriever_measure_finder,
                                  suggest_priority, task_table_spans)
from ingest.dispatch import parse_file
from tests.conftest import FIXTURES, SAMPLES

sys.path.insert(0, str(FIXTURES / "eval"))
import run_extract  # noqa: E402

CONSULTATION = SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt"


def test_consultation_concerns_score():
    text = CONSULTATION.read_text(encoding="utf-8")
    gold = json.loads((SAMPLES / (CONSULTATION.name + ".gold.json")).read_text(encoding="utf-8"))["concerns"]
    rows = propose_rows(text)
    figures = run_extract.figures_propose([run_extract.score_propose(gold, rows)])
    assert figures["concern_recall"] >= 0.85 and figures["precision"] >= 0.70, figures
    assert figures["priority_accuracy"] >= 0.75, figures
    for row in rows:  # every row cites its span exactly, and says why it has its priority
        src = row["source"]
        assert text[src["start"]:src["end"]] == src["quote"] and row["priority_reason"]
        assert row["responsible"] and row["activities"] and row["deadline_text"]


def test_answers_and_conclusion_are_not_concerns():
    text = CONSULTATION.read_text(encoding="utf-8")
    quotes = [text[u.start:u.end] for u in find_concerns(text)]
    assert not any("Hasaj:" in q or "Përfundim" in q or "Hyrje" in q for q in quotes)


def test_other_writing_style_bullets_and_requests():
    text = ("Takim me banorët e NJA Kodrinë, 12.03.2025\n\n"
            "Ankesat e banorëve:\n"
            "- Një nënë: fëmijët ecin në errësirë për në shkollë, rruga pa ndriçim, kanë frikë. Kërkon drita.\n"
            "- Fermerët: 9 vjedhje bagëtish që nga janari. Kërkojnë patrullë nate.\n"
            "- Një banor: mbeturinat nuk mblidhen prej dy javësh te sheshi.\n\n"
            "Përgjigje: Policia do të shtojë patrullat.\n")
    rows = propose_rows(text)
    assert len(rows) == 3
    lighting, theft, waste = rows
    assert lighting["priority"] == "i lartë" and "fëmij" in lighting["priority_reason"]
    assert theft["priority"] == "i lartë" and theft["activities"] == ["Patrullë nate"]
    assert waste["priority"] == "i ulët"
    assert "Kërkojnë" not in theft["source"]["quote"]


def test_priority_as_the_text_states_it():
    level, reason = suggest_priority("Qytetarët ngritën garat me makina; SKN propozoi prioritet të lartë.")
    assert level == "i lartë" and "tekst" in reason


def test_minutes_without_a_concern_section_give_one_row_per_topic():
    text = ("Pika 2. Banorët e Lagjes së Re u ankuan për qentë endacakë te tregu: 4 raste kafshimi.\n"
            "Z. Hasaj: për qentë endacakë do flasim me bashkinë.\n"
            "Vendimet:\n1. Merret në dijeni informacioni për qentë endacakë.\n")
    rows = propose_rows(text, document_id="doc7")
    assert len(rows) == 1 and rows[0]["source"]["document_id"] == "doc7"
    assert "4 raste kafshimi" in rows[0]["source"]["quote"]


def test_measure_comes_from_the_finder_passed_in():
    seen = []

    def find_measure(problem):
        seen.append(problem)
        return {"measure": "Masa 2.1", "document_id": "strategy", "start": 0, "end": 10, "quote": "Masa 2.1 …"}

    rows = propose_rows(CONSULTATION.read_text(encoding="utf-8"), find_measure=find_measure)
    assert all(r["measure"]["measure"] == "Masa 2.1" for r in rows) and seen == [r["problem"] for r in rows]


def test_names_attendance_and_task_tables_are_not_concerns():
    text = ("Mbledhja e KVSP Dritas, 12.09.2025\n"
            "- Drita Kola – KP Dritas\n"
            "- Ndriçim Hasaj – Komisariati i Policisë\n"
            "11:25 – largohet E. Gjeka, thirrje urgjente (zjarr në NJA Shpellëz)\n\n"
            "Pika 1. Z. Ndriçim Hasaj informoi se janë regjistruar 7 aksidente me këmbësorë pranë shkollave. "
            "Automjetet kalojnë me shpejtësi të lartë para shkollës „Dritë e Re” dhe banorët kanë frikë.\n\n"
            "| Nr | Detyra | Përgjegjës | Afati |\n"
            "| 1 | Kontrolle për drogë pranë 5 shkollave | KP | 30.06 |\n"
            "Nr.: 2; Detyra: Kapja e 40 qenve endacakë te tregu; Institucioni përgjegjës: Bashkia; "
            "Afati: 31.12\n")
    rows = propose_rows(text)
    assert len(rows) == 1, [r["source"]["quote"] for r in rows]
    row = rows[0]
    # the police chief's first name is not street lighting; two sentences on one topic are one concern
    assert "ndriçimi" not in row["topics"] and row["topics"][0] == "shpejtësia dhe garat"
    quote = row["source"]["quote"]
    assert quote.startswith("Z. Ndriçim Hasaj") and quote.endswith("kanë frikë.")
    assert is_attendance("imam F. Lleshi – Myftinia; dom N. Gjoka")
    assert is_attendance("10:40 – vjen V. Dervishi (PRGJ)")
    assert not is_attendance("Z. Ilir D., pensionist: gara me makina natën")
    assert not is_attendance("Drita Kola pa drita")
    assert len(task_table_spans(text)) == 3
    concerns_table = "| Nr | Shqetësimi | Vendndodhja |\n| 1 | Vjedhje banesash, 7 raste | Kodrinë |\n"
    assert task_table_spans(concerns_table) == []


def test_minutes_listing_concerns_give_one_row_per_listed_topic():
    text = (SAMPLES / "shenime-sekretari-lumez-2025-02-20.txt").read_text(encoding="utf-8")
    rows = propose_rows(text)
    firsts = [r["topics"][0] for r in rows]
    assert len(firsts) == len(set(firsts))  # minutes come back to a topic: one row for it
    listed = text.index("Qose lexon listën")
    from_list = [r for r in rows if listed < r["source"]["start"] < text.index("\n", listed)]
    assert len(from_list) >= 6
    assert any(r["source"]["quote"] == "gara me makina natën në Bulevardin e Liqenit" for r in from_list)
    for r in rows:  # not the attendance, the time-stamped departures or the task list
        assert not any(w in r["source"]["quote"] for w in ("largohet", "vjen", "Policia merr", "KB (kati 2)"))


def test_a_task_status_table_inside_the_discussion_gives_no_rows():
    pdf = "procesverbal-kvsp-lumez-2024-10-03.pdf"
    text = parse_file(pdf, (SAMPLES / pdf).read_bytes()).text
    quotes = [r["source"]["quote"] for r in propose_rows(text)]
    assert quotes and not any("Detyra:" in q or "Statusi:" in q for q in quotes)
    assert any("narkotike" in q for q in quotes)


def test_strategy_measure_for_typical_concerns_on_the_ingested_corpus(services):
    find = retriever_measure_finder(services.retriever)
    for concern in ("Rruga pa ndriçim pranë shkollës, fëmijët ecin në errësirë",
                    "Shitje droge pranë shkollave"):
        measure = find(concern)
        assert measure and measure["measure"].startswith("Masa"), concern
        chunk = services.store.get_chunks([measure["chunk_id"]])[0]
        assert chunk.kind == "strategy" and any("Masa" in part for part in chunk.section), chunk.section
        assert (measure["document_id"], measure["start"], measure["end"]) == (chunk.document_id, chunk.start, chunk.end)
