"""Citizens' concerns -> proposed plan rows, scored the way run_extract.py scores /api/plan/propose."""
import json
import sys

from assistant.proposals import find_concerns, propose_rows, suggest_priority
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
