"""The layout-free notes reader (issue 14): decisions inline in the discussion, attendance wherever it is
written, header fields in clauses and packed segments. Each test is a small text of its own."""
from assistant.meetings import header, resolutions
from assistant.meetings.notes import formalize, parse_meeting


def decisions(text: str) -> list[str]:
    return [r.text for r in resolutions.read(text)]


def test_decisions_in_prose_sentences():
    text = ("Për pikën e parë u diskutua gjatë. Pas diskutimit u ra dakord që Policia Bashkiake të jetë\n"
            "e pranishme çdo mëngjes te shkolla. Këshilli miratoi planin e evakuimit për fshatrat e lumit.\n"
            "Propozimi për kamera në lagje miratohet njëzëri. Këshilli mori në dijeni raportin e policisë.")
    assert decisions(text) == ["Policia Bashkiake të jetë e pranishme çdo mëngjes te shkolla",
                               "Këshilli miratoi planin e evakuimit për fshatrat e lumit",
                               "Propozimi për kamera në lagje miratohet njëzëri",
                               "Këshilli mori në dijeni raportin e policisë"]


def test_negated_or_personal_agreement_is_no_decision():
    text = ("Të gjithë ranë dakord se do të ishte mirë më shumë ndriçim, por nuk u vendos gjë konkrete.\n"
            "Kapitene Hasani u pajtua dhe tha se plani mund të përgatitet më herët.\n"
            "Bashkia vendos tabela te kthesa çdo vit.")
    assert decisions(text) == []


def test_labelled_and_chat_decisions():
    text = ("10:45 – VENDIM 1: vendosen 3 kulla vrojtimi në plazh para sezonit.\n"
            "[10:40] Arta Kola: u pajtuam që ndriçimi i fshatit të hyjë në buxhetin e vitit 2026\n")
    assert decisions(text) == ["Vendosen 3 kulla vrojtimi në plazh para sezonit",
                               "Ndriçimi i fshatit të hyjë në buxhetin e vitit 2026"]


def test_a_colon_list_of_decisions_in_the_nominative():
    text = "Si përmbledhje, këshilli vendosi: miratimin e planit vendor; hartimin e hartës së vjedhjeve."
    assert decisions(text) == ["Miratimi i planit vendor", "Hartimi i hartës së vjedhjeve"]


def test_an_agenda_approved_in_a_sentence_is_the_records_formula():
    text = "Kryetari lexoi rendin e ditës, i cili u miratua pa ndryshime: 1. shkollat 2. të ndryshme."
    assert decisions(text) == ["Miratohet rendi i ditës pa ndryshime"]


def test_inline_decisions_reach_the_meeting_and_cite_their_sentence():
    notes = ("Mbledhja e KVSP, 12.03.2025.\n\nPër shkollat foli Lala. Pas diskutimit u ra dakord që\n"
             "ZVA të dërgojë listën e shkollave pa roje.\nÇështja e tregut mbetet për mbledhjen e ardhshme.\n")
    m = parse_meeting(notes)
    assert m.decisions == ["ZVA të dërgojë listën e shkollave pa roje"]
    s, e = m.trace["decisions.0"][0]
    assert "u ra dakord" in notes[s:e]
    assert m.deferred == ["Çështja e tregut mbetet për mbledhjen e ardhshme"]


def test_attendance_under_a_heading_that_names_it_anywhere():
    notes = ("Takimi i KKSB, 16.04.2025\nNë takim morën pjesë anëtarët e KKSB-së:\n- A. Morina, Stacioni Policor\n"
             "- F. Gashi, drejtor i DKA-së\n\nerdhën: B. Kola (KB), I. Prifti (Pol Bashk)\n")
    m = parse_meeting(notes)
    assert [p.name for p in m.present] == ["A. Morina", "F. Gashi", "B. Kola", "I. Prifti"]


def test_the_invited_cue_governs_a_general_cue_after_it_and_a_wrapped_name_stays():
    notes = ("Në mbledhje morën pjesë znj. Ana Leka, Këshilli Bashkiak, z.\nBesnik Dema, Policia.\n\n"
             "Në cilësinë e të ftuarve, pa të drejtë vote, morën pjesë znj. Lira Hoxha nga Kryqi i Kuq.\n")
    m = parse_meeting(notes)
    assert [p.name for p in m.present] == ["Ana Leka", "Besnik Dema"]
    assert [p.name for p in m.invited] == ["Lira Hoxha"]


def test_a_time_takes_the_cue_of_the_clause_before_it():
    text = "Takimi ishte thirrur për orën 14:00. Takimi filloi me dhjetë minuta vonesë, në orën 14:10."
    found = header.times(text)
    assert (found["scheduled_time"].value, found["start_time"].value) == ("14:00", "14:10")


def test_the_ora_line_gives_start_and_end():
    text = "PROCESVERBAL\nData: 20.06.2024\nOra: 10:00 – 12:30\nVendi: salla e mbledhjeve\n" + "Tekst. " * 80
    found = header.times(text)
    assert (found["start_time"].value, found["end_time"].value) == ("10:00", "12:30")


def test_an_earlier_meetings_number_is_not_this_ones():
    text = ("PROCESVERBAL\ni mbledhjes nr. 2/2024 të KVSP\n" + "Tekst. " * 40 +
            "\nZ. Bala informoi se nga 8 detyrat e mbledhjes nr. 1/2024, 5 janë kryer.\n")
    assert header.meeting_number(text).value == "2/2024"


def test_place_from_a_packed_segment_and_after_a_relocation():
    packed = "Procesverbal – KVSP Ujëbardhë – mbledhja nr. 3/2024 – Qendra Kulturore Ujëbardhë, salla B\n"
    assert header.place(packed).value == "Qendra Kulturore Ujëbardhë, salla B"
    moved = ("Mbledhja ishte caktuar në sallën e Këshillit Bashkiak, por u zhvendosëm në zyrën e protokollit, "
             "sepse salla ishte e zënë.\n")
    assert header.place(moved).value == "Zyra e protokollit"


def test_formal_text_writes_out_gheg_elisions_and_ocr_rn():
    assert formalize("policia n'ndihmë t'shërbimit pyjor, t'i jetë") == "Policia në ndihmë të shërbimit pyjor, t'i jetë"
    assert formalize("Rniratohet rendi i ditës") == "Miratohet rendi i ditës"
