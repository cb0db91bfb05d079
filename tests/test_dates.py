"""Albanian dates and deadlines against a meeting date (conventions of corpus/samples/README.md)."""
from datetime import date

import pytest

from assistant.meetings.dates import add_working_days, find_dates, find_deadline, parse_date

THU = date(2025, 2, 20)  # a Thursday, like meeting 1/2025 of the Lumëz notes
NOV = date(2024, 11, 7)


@pytest.mark.parametrize("text, expected", [
    ("14.03.2024", date(2024, 3, 14)),
    ("14/3/2024", date(2024, 3, 14)),
    ("14-03-24", date(2024, 3, 14)),
    ("14 mars 2024", date(2024, 3, 14)),
    ("më 3 tetor 2024", date(2024, 10, 3)),
    ("3 Nëntor 2024", date(2024, 11, 3)),
    ("data: 07/11/2024 – salla", date(2024, 11, 7)),
    ("31.02.2024", None),  # no such day
])
def test_explicit_dates(text, expected):
    assert parse_date(text) == expected


def test_day_month_without_year_takes_the_next_such_date():
    assert parse_date("më 3 tetor", THU) == date(2025, 10, 3)
    assert parse_date("deri më 15 janar", NOV) == date(2025, 1, 15)
    assert parse_date("14.03", THU) == date(2025, 3, 14)


@pytest.mark.parametrize("text, ref, due, due_text", [
    # months and quarters mean their last day; the year is the next one not before the meeting
    ("afat fundi i marsit", THU, date(2025, 3, 31), "afat fundi i marsit"),
    ("deri në fund të prillit", THU, date(2025, 4, 30), "deri në fund të prillit"),
    ("deri në mars", THU, date(2025, 3, 31), "deri në mars"),
    ("në janar", NOV, date(2025, 1, 31), "në janar"),
    ("brenda dhjetorit", NOV, date(2024, 12, 31), "brenda dhjetorit"),
    ("Qershor 2024", None, date(2024, 6, 30), "Qershor 2024"),
    ("mesi i prillit", THU, date(2025, 4, 15), "mesi i prillit"),
    ("tremujori II", THU, date(2025, 6, 30), "tremujori II"),
    ("në tremujorin e tretë", THU, date(2025, 9, 30), "në tremujorin e tretë"),
    ("TM3", THU, date(2025, 9, 30), "TM3"),
    ("tremujori I 2026", THU, date(2026, 3, 31), "tremujori I 2026"),
    ("gjashtëmujori i dytë", THU, date(2025, 12, 31), "gjashtëmujori i dytë"),
    ("deri në fund të vitit", THU, date(2025, 12, 31), "deri në fund të vitit"),
    ("max fundi i muajit", NOV, date(2024, 11, 30), "max fundi i muajit"),
    ("brenda muajit", THU, date(2025, 2, 28), "brenda muajit"),
    ("muajin tjetër", THU, date(2025, 3, 31), "muajin tjetër"),
    # relative deadlines count from the meeting date
    ("brenda 2 javëve", THU, date(2025, 3, 6), "brenda 2 javëve"),
    ("brenda dy javësh", THU, date(2025, 3, 6), "brenda dy javësh"),
    ("brenda 10 ditëve", THU, date(2025, 3, 2), "brenda 10 ditëve"),
    ("brenda 5 ditëve pune", THU, date(2025, 2, 27), "brenda 5 ditëve pune"),
    ("brenda 5 ditëve pune", NOV, date(2024, 11, 14), "brenda 5 ditëve pune"),
    ("brenda 10 ditëve pune", THU, date(2025, 3, 6), "brenda 10 ditëve pune"),
    ("në 3 muaj", THU, date(2025, 5, 20), "në 3 muaj"),
    ("brenda javës", THU, date(2025, 2, 21), "brenda javës"),
    ("javën tjetër", THU, date(2025, 2, 28), "javën tjetër"),
    ("javën e ardhshme", date(2025, 2, 21), date(2025, 2, 28), "javën e ardhshme"),
    ("deri të premten", THU, date(2025, 2, 21), "deri të premten"),
    ("deri të premten", date(2025, 2, 21), date(2025, 2, 28), "deri të premten"),  # the coming one, not today
    ("deri të hënën", THU, date(2025, 2, 24), "deri të hënën"),
    ("nesër", THU, date(2025, 2, 21), "nesër"),
    # explicit deadlines with their cue words
    ("deri më 15 prill", THU, date(2025, 4, 15), "deri më 15 prill"),
    ("jo më vonë se 29.11", NOV, date(2024, 11, 29), "jo më vonë se 29.11"),
    ("deadline 22 nëntor", NOV, date(2024, 11, 22), "deadline 22 nëntor"),
    ("Afati: 31.05.2024", None, date(2024, 5, 31), "Afati: 31.05.2024"),
])
def test_deadlines(text, ref, due, due_text):
    found = find_deadline(text, ref)
    assert (found.due, found.due_text) == (due, due_text)
    assert text[found.span[0]:found.span[1]] == due_text


@pytest.mark.parametrize("text, due_text", [
    ("para sezonit turistik", "para sezonit turistik"),
    ("t'u shkojë anëtarëve 7 ditë para mbledhjes tjetër", "7 ditë para mbledhjes tjetër"),
    ("për mbledhjen e ardhshme", "për mbledhjen e ardhshme"),
    ("në vazhdimësi", "në vazhdimësi"),
    ("Çdo muaj", "Çdo muaj"),
    ("Gjatë gjithë vitit", "Gjatë gjithë vitit"),
])
def test_undated_event_or_ongoing_work_has_no_due_but_keeps_its_text(text, due_text):
    found = find_deadline(text, THU)
    assert found.due is None and found.due_text == due_text


def test_a_start_date_is_not_a_deadline():
    assert find_deadline("Nga 01.04.2024, gjatë vitit shkollor", NOV).due is None
    line = "Komisariati (Malaj) nis patrullën e natës që të hënën 11.11; raport te SKN deri më 20 dhjetor"
    assert find_deadline(line, NOV)[:2] == (date(2024, 12, 20), "deri më 20 dhjetor")


def test_a_dated_deadline_beats_recurrence_and_keeps_a_following_event():
    assert find_deadline("Çdo muaj, deri më 30.06.2025", NOV).due == date(2025, 6, 30)
    found = find_deadline("pastrimi – max fundi i muajit, para shirave të mëdha", NOV)
    assert found.due == date(2024, 11, 30) and found.due_text == "max fundi i muajit, para shirave të mëdha"


def test_no_deadline_and_no_meeting_date():
    assert find_deadline("Hasaj: garat – 2 raste me gjoba, KP s'i ka kamerat", THU) == (None, None, None)
    assert find_deadline("pas orës 22:00 të premteve", THU).due is None
    found = find_deadline("brenda 2 javëve", None)
    assert found.due is None and found.due_text == "brenda 2 javëve"


def test_offsets_point_into_the_original_text_with_diacritics():
    text = "Çështja: ZVA dërgon kalendarin deri më 15 nëntor, pa vonesë"
    found = find_deadline(text, NOV)
    assert text[slice(*found.span)] == "deri më 15 nëntor"
    assert [(text[s:e], d) for s, e, d in find_dates(text, NOV)] == [("15 nëntor", date(2024, 11, 15))]


def test_working_days_skip_the_weekend():
    assert add_working_days(date(2025, 2, 21), 1) == date(2025, 2, 24)


MAY = date(2025, 5, 21)  # a Wednesday: the partner's English notes of meeting 2/2025


@pytest.mark.parametrize("text, ref, due, due_text", [
    ("të paraqesë grafikun brenda muajit qershor", date(2024, 5, 20), date(2024, 6, 30), "brenda muajit qershor"),
    ("ZVA detyrohet të dërgojë listën e shko1lave deri fund shkurti", date(2025, 1, 20), date(2025, 2, 28),
     "deri fund shkurti"),  # OCR'd notes lose the particle: "deri fund shkurti"
    ("to submit the patrol plan by Friday.", MAY, date(2025, 5, 23), "by Friday"),
    ("to send the dates next week.", MAY, date(2025, 5, 30), "next week"),
    ("a list of bars by 15 June.", MAY, date(2025, 6, 15), "by 15 June"),
    ("by 30 June", MAY, date(2025, 6, 30), "by 30 June"),
    ("the half-year report by the end of June.", MAY, date(2025, 6, 30), "by the end of June"),
    ("to confirm the quote within 10 working days", MAY, date(2025, 6, 4), "within 10 working days"),
    ("within two weeks", MAY, date(2025, 6, 4), "within two weeks"),
])
def test_named_months_ocr_and_english_deadlines(text, ref, due, due_text):
    found = find_deadline(text, ref)
    assert (found.due, found.due_text) == (due, due_text)


@pytest.mark.parametrize("text, due_text", [
    ("ta sjellë raportin deri në mbledhjen e ardhshme", "deri në mbledhjen e ardhshme"),
    ("to inspect the towers before the tourist season opens.", "before the tourist season opens"),
    ("to report at the next meeting", "at the next meeting"),
])
def test_event_tied_deadlines_keep_their_text(text, due_text):
    found = find_deadline(text, MAY)
    assert found.due is None and found.due_text == due_text


def test_an_english_meeting_date():
    assert parse_date("Date/time: Wednesday, 21 May 2025. Invitation said 10:00") == MAY
    assert parse_date("May 21, 2025") == MAY
    assert parse_date("you may 21 people", MAY) is None  # month first only with a year: "may" is also a verb
