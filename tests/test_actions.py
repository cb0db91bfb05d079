"""Action items on the samples, scored in-process the way shared/eval/run_extract.py scores them."""
import json
import sys
from datetime import date

import pytest

from assistant.meetings.actions import extract_actions
from tests.conftest import FIXTURES, SAMPLES

sys.path.insert(0, str(FIXTURES / "eval"))
import run_extract  # noqa: E402  (the evaluation's own matching and scoring)

MEETINGS = ["shenime-sekretari-lumez-2025-02-20.txt", "shenime-sekretari-gurras-2024-11-07.txt",
            "procesverbal-kvsp-lumez-2024-03-14.docx", "procesverbal-kvsp-lumez-2024-10-03.pdf"]


@pytest.fixture(scope="module")
def parsed():
    """name -> (text, tables) as the API sees them: .txt as sent, .docx/.pdf through the ingestors."""
    from ingest.dispatch import parse_file

    out = {}
    for name in MEETINGS:
        path = SAMPLES / name
        if name.endswith(".txt"):
            out[name] = (path.read_text(encoding="utf-8"), None)
        else:
            doc = parse_file(name, path.read_bytes())
            out[name] = (doc.text, doc.tables)
    return out


def gold(name):
    return json.loads((SAMPLES / f"{name}.gold.json").read_text(encoding="utf-8"))


def test_samples_score_like_the_evaluation(parsed):
    files = []
    for name, (text, tables) in parsed.items():
        items = [a.to_dict() for a in extract_actions(text, tables=tables)]
        for item in items:  # offsets are exact spans of the text
            assert text[item["source"]["start"]:item["source"]["end"]] == item["source"]["quote"]
        files.append(run_extract.score_actions(gold(name), items))
    total = run_extract.figures_actions(files)
    assert total["f1"] >= 0.9
    assert total["owner_accuracy"] >= 0.9
    assert total["due_accuracy"] >= 0.9
    assert total["distractor_hits"] == 0


@pytest.mark.parametrize("name", MEETINGS[:2])
def test_look_alikes_are_not_actions(parsed, name):
    text, _ = parsed[name]
    quotes = [a.quote for a in extract_actions(text)]
    for d in gold(name).get("distractors", []):
        assert not any(run_extract.fuzzy(q, d["source_quote"]) for q in quotes), d["source_quote"]


def test_table_rows_stored_as_labelled_text_without_tables(parsed):
    """A DOCX's text alone (rows as 'Header: cell; Header: cell') gives the same items as its tables."""
    text, tables = parsed["procesverbal-kvsp-lumez-2024-03-14.docx"]
    from_tables = [a.to_dict() for a in extract_actions(text, tables=tables)]
    from_text = [a.to_dict() for a in extract_actions(text)]
    assert from_text == from_tables
    assert from_text[1]["owner"] == ["Komisariati i Policisë Lumëz", "Policia Bashkiake"]
    assert from_text[1]["due"] is None  # "Nga 01.04.2024, gjatë vitit shkollor" starts, it does not end


def test_progress_tables_are_reports_not_tasks(parsed):
    text, tables = parsed["procesverbal-kvsp-lumez-2024-10-03.pdf"]
    quotes = [a.quote for a in extract_actions(text, tables=tables)]
    assert not any("Realizuar" in q or "faqen zyrtare" in q for q in quotes)


def test_notes_in_another_style():
    notes = """Mbledhja e KVSP Dritas, 12.09.2025
DETYRAT:
1. KP Dritas -> patrullë te shkolla „Liria” në orët 7:30-8:30, javën tjetër
2. ZVA + DVSHP: takim me prindërit, brenda 10 ditëve pune
3. Bashkia: dosat te rruga e shkollës – para sezonit të shirave
4. kamerat e tregut – shtyhet për mbledhjen tjetër
5. Qendra rinore mund të hapet edhe të shtunën
6. trajnimi i mësuesve u bë në korrik
"""
    items = extract_actions(notes)
    assert [(a.owner, a.due, a.due_text) for a in items] == [
        (["KP Dritas"], date(2025, 9, 19), "javën tjetër"),
        (["ZVA", "DVSHP"], date(2025, 9, 26), "brenda 10 ditëve pune"),
        (["Bashkia"], None, "para sezonit të shirave"),
    ]
    assert notes[items[0].start:items[0].end] == items[0].quote


def test_meeting_date_sent_overrides_the_text():
    items = extract_actions("detyra:\n- ZVA: raport brenda 2 javëve", meeting_date=date(2025, 1, 1))
    assert [(a.owner, a.due) for a in items] == [(["ZVA"], date(2025, 1, 15))]


ZOO = FIXTURES / "zoo"
PROSE = ["minutes-m03-narrative.txt", "notes-20-long-prose-buried-tasks.txt", "notes-15-kksb-kosovo-register.txt",
         "published/report-01-vushtrri-rekomandime.txt", "published/report-02-suhareke-rekomandime.txt"]


@pytest.mark.parametrize("name", PROSE)
def test_tasks_written_in_prose(name):
    """Real zoo and published files whose tasks stand in sentences: found, and no distractor taken."""
    path = ZOO / name
    text = path.read_text(encoding="utf-8")
    g = json.loads(path.with_name(path.name + ".gold.json").read_text(encoding="utf-8"))
    items = [a.to_dict() for a in extract_actions(text)]
    for item in items:
        assert text[item["source"]["start"]:item["source"]["end"]] == item["source"]["quote"]
    score = run_extract.score_actions(g, items)
    assert score["matched"] >= 0.5 * score["gold"], name
    assert score["distractor_hits"] == [], name


def test_request_subjunctive_owner_and_deadline():
    text = ("Kryetari i kërkoi Policisë që të hartojë një plan për trafikun deri më 28.02.2025. "
            "Policia tashmë ka vendosur pikë kontrolli në hyrje të qytetit. "
            "Do të ishte mirë që një ditë të kemi kamera në çdo shkollë. "
            "DKA të bëjë kërkesë me shkrim në MAShT për psikologë shtesë.")
    items = extract_actions(text, meeting_date=date(2025, 2, 11))
    assert [(a.owner, a.due) for a in items] == [(["Policisë"], date(2025, 2, 28)), (["DKA"], None)]


def test_a_task_table_typed_in_the_notes_is_read_as_a_table():
    notes = ("Detyrat\n"
             "| Nr | Detyra                          | Përgjegjës            | Afati      |\n"
             "|----|---------------------------------|-----------------------|------------|\n"
             "| 1  | Kontrolle te tregu i kafshëve   | KP Lisaj + Policia Bashkiake | 15.10.2025 |\n"
             "| 2  | Lista e familjeve në rrezik     | Emergjencat Civile    | fund tetori |\n"
             "\nEcuria\n"
             "| Detyra e vjetër | Kush | Gjendja |\n|---|---|---|\n| Semafori | Bashkia | u riparua |\n")
    items = extract_actions(notes)
    assert [(i.action, i.owner) for i in items] == [
        ("Kontrolle te tregu i kafshëve", ["KP Lisaj", "Policia Bashkiake"]),
        ("Lista e familjeve në rrezik", ["Emergjencat Civile"])]  # the table of how old tasks stand is none
    assert items[0].due == date(2025, 10, 15) and notes[items[0].start:items[0].end] == items[0].action


def test_a_task_line_with_its_owner_and_deadline_labelled_after_dashes():
    notes = ("6. Detyrat\n"
             "   6.1 Hartimi i planit të patrullimit – Përgjegjës: Komisariati i Policisë Lisaj – Afati: 05.07.2025\n"
             "   6.2 Vendosja e 4 tabelave paralajmëruese – Përgjegjës: Emergjencat Civile – Afati: brenda 30 ditëve\n")
    items = extract_actions(notes, meeting_date=date(2025, 6, 1))
    assert [i.owner for i in items] == [["Komisariati i Policisë Lisaj"], ["Emergjencat Civile"]]
    assert items[0].action == "Hartimi i planit të patrullimit" and items[0].due == date(2025, 7, 5)
    assert items[1].due_text == "brenda 30 ditëve"


def test_the_owner_is_the_agent_not_a_possessor_or_recipient():
    text = ("Raporti i Policisë për gjendjen e sigurisë gjatë vitit 2025.\n"
            "KP do t'ia dërgojë SKN-së planin e shërbimeve para festave të fundvitit.\n"
            "SKN-së iu kërkua të publikojë planin në faqen e bashkisë deri të premten.\n"
            "Ngarkohet Drejtoria e Emergjencave Civile të vendosë tabela te liqeni brenda 30 ditëve.\n")
    items = extract_actions(text, meeting_date=date(2025, 9, 3))
    assert [i.owner for i in items] == [["KP"], ["SKN"], ["Drejtoria e Emergjencave Civile"]]
    assert items[1].due == date(2025, 9, 5) and items[2].due == date(2025, 10, 3)


def test_a_role_followed_by_a_name_keeps_the_name():
    text = "Koordinatorja e KKSB-së, znj. Arta Krasniqi, të organizojë takimin me banorët javën tjetër."
    items = extract_actions(text, meeting_date=date(2025, 3, 12))
    assert len(items) == 1 and run_extract.owners_equal(items[0].owner, ["Arta Krasniqi"])


def test_task_lines_with_owners_written_short():
    notes = ("Detyrat:\n"
             "- Dr. Shërb. Publike: riparimi i ndriçimit te ura – fund maji\n"
             "- L. Prendi – procesverbali brenda 5 ditëve pune\n"
             "- **ZVA + NJMF** – seanca për prindërit – para hapjes së vitit shkollor\n"
             "- KP dhe Prokuroria përgatisin një informacion për drogat, për mbledhjen e radhës.\n"
             "Shënoi: R. Bici, sekretare teknike\n")
    items = extract_actions(notes, meeting_date=date(2025, 4, 10))
    assert [i.owner for i in items] == [["Dr. Shërb. Publike"], ["L. Prendi"], ["ZVA", "NJMF"], ["KP", "Prokuroria"]]
    assert [i.due for i in items] == [date(2025, 5, 31), date(2025, 4, 17), None, None]


def test_dates_tied_to_an_event_or_a_rhythm_are_no_deadline():
    text = ("SKN merr përsipër të përgatisë fletëpalosjen para mbledhjes së korrikut.\n"
            "Policia Bashkiake u ngarkua të bëjë kontroll te tregu çdo të martë.\n"
            "Obligohet DSHMS që brenda 15 ditëve ta pastrojë shtratin e lumit.\n")
    items = extract_actions(text, meeting_date=date(2025, 6, 2))
    assert [(i.due, i.due_text) for i in items] == [(None, "para mbledhjes së korrikut"), (None, "çdo të martë"),
                                                     (date(2025, 6, 17), "brenda 15 ditëve")]


def test_a_speaker_reporting_a_passive_plan_owns_no_task():
    text = ("Nënkryetari Berisha tha se projekti i kanalizimit do të realizohet gjatë verës nga kontraktori.\n"
            "Kryetari Agim Hoxha premtoi se kërkesat e banorëve do të trajtohen me prioritet.\n")
    items = extract_actions(text, meeting_date=date(2025, 5, 6))
    assert [i.quote[:9] for i in items] == ["Kryetari "]
    assert run_extract.owners_equal(items[0].owner, ["Agim Hoxha"])


def test_the_subject_of_an_agreed_clause_owns_its_task():
    """A body the gazetteer lacks by name, as the subject of the clause the meeting agreed on, owns the task;
    the subject of a passive is what is done, not who does it."""
    text = ("Në takim u dakortësua se vullnetarët e Kryqit të Kuq do të vizitojnë familjet në lagjet periferike.\n"
            "Plani i punës për vitin 2025 do të miratohet në mbledhjen e radhës.\n")
    items = extract_actions(text, meeting_date=date(2025, 5, 6))
    assert len(items) == 1 and items[0].quote.startswith("Në takim")
    assert items[0].owner and items[0].owner[0].startswith("vullnetarët")


def test_a_spokesman_saying_what_his_body_will_do_is_its_pledge():
    """"X, representative of a body, said they will …" is the body's commitment; a speaker reporting what another
    body will do ("njoftoi se Këshilli Bashkiak do të …") pledges nothing of his own."""
    text = ("Ndërkaq, përfaqësuesi i Drejtorisë së Arsimit Arben Gashi, tha se do të organizojnë ligjërata në çdo shkollë.\n")
    items = extract_actions(text, meeting_date=date(2025, 5, 6))
    assert len(items) == 1 and "Arsimit" in " ".join(items[0].owner)
