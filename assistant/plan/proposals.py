"""Citizens' concerns -> proposed plan rows.

A concern is an item of a 'concerns' section of consultation notes (numbered, bulleted or a
paragraph). In texts without such a section (concerns grouped by neighbourhood, by speaker, a
forum's flowing prose, minutes) each sentence is scored for the evidence that it states a problem:
a known safety topic, a harm, a lack, a complaint, a request, a frequency, a count, a place (words
read with their lemmas from ingest/albanian/morphology.py, so 'u kafshuan' is a bite). A sentence
that scores enough is a concern, unless it is an answer, the meeting's own record or a report of
work done. The sentences of one list item or one speaker's turn are one concern; in prose a
sentence joins the one before it when it shares its topic or has none; a sentence listing several
topics clause by clause gives one per clause; a topic the minutes come back to gives one row.
Attendance lines, agenda item titles, rows of task tables and topic words inside capitalised names
('Z. Ndriçim Hasaj' is not lighting) are never concerns.

Each becomes a row in the plan-row shape with the problem as the text states it (its strongest
sentence), a priority with its reason (stated deaths and injuries, a danger to a vulnerable group,
repeated incidents, each quoted from the text), activities (what the citizens asked for, else the
topic's usual ones), the bodies that answer for the topic in Albania or Kosovo, a suggested
deadline, the source span, and the strategy measure it serves.

Pure: text in, dicts out. The rules are data (data/concern_topics.json); the strategy search
is passed in as `find_measure(text) -> citation | None`.
"""
import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from assistant.search.albanian import fold
from ingest.albanian import markers
from ingest.albanian.morphology import analyse
from assistant.meetings.gazetteer import honorifics
from assistant.meetings.notes import parse_person, split_people
from assistant.plan.extract import LEVELS, header_field, normalise_priority, squash

DATA = Path(__file__).resolve().parents[1] / "data"
_WORD = re.compile(r"[a-z0-9]+")
_MARKER = re.compile(rf"^\s*(?:{markers.NUMBERED}|{markers.SIGN})\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?…”\"])\s+(?=[A-ZÇË„“\"])")
_PLACE = re.compile(
    r"\b(?:(?:Lagj(?:ja|en|es|e)|Rrug(?:a|ën|ës|e)|Bulevard(?:i|in|it)|Sheshi|Sheshin|Parku|Parkun|Tregu|Tregut|Tregun|"
    r"fshat(?:i|in|it)|NJA|Njësia Administrative|Shkoll(?:a|ës|ën)|Gjimnaz(?:i|it|in)|Qendr(?:a|ës)|Kryqëzim(?:i|in)|"
    r"ish-[a-zçë]+|pranë|afër|te|tek)\s+(?:[a-zçë-]+\s+){0,3}?)?"
    r"(?:[A-ZÇË][\w’'-]+|„[^”]+”|\"[^\"]+\")(?:\s+(?:e|i|të|së|\d+|[A-ZÇË][\w’'-]+|„[^”]+”))*")
_PLACE_HEAD = re.compile(r"^(?:Lagj|Rrug|Bulevard|Shesh|Park|Treg|fshat|NJA|Njësia|Shkoll|Gjimnaz|Qendr|Kryqëzim|ish-|pranë|afër|te |tek )")
_FIGURE = re.compile(r"(?<![\w.:])(?<!nr\. )(?<![Pp]ika )(?:rreth\s+)?\d+(?:[.,]\d+)?(?:\s*[–-]\s*\d+)?(?:\s+(?:nga\s+\d+\s+)?[^\s,.;:]+){1,3}")
_MUNICIPALITY = re.compile(r"\b(Bashki(?:a|së|në|ak)|Komun(?:a|ës|ën))\s+(e\s+)?([A-ZÇË][a-zçë]+)")
_TOKEN = re.compile(r"[^\W_]+")
_CELL = re.compile(r"(?:^|;)\s*([^:;\n]{1,40}?)\s*:(?!\d)")  # 'Detyra:' in 'Nr.: 1; Detyra: …; Afati: …'
_ITEM = re.compile(r"^\s*(?:\d{1,2}[:.]\d{2}\s*[–—-]\s*)?(?:P|pika\s*|pika e\s*)\d{1,2}\b", re.I)
_TIME_EVENT = re.compile(r"^\s*\d{1,2}[:.]\d{2}\s*[–—-]?\s*")
_DEADLINE = re.compile(r"\b(?:deri\s+(?:më|në|ne|me)\s+[^.;,]+|brenda\s+[^.;,]+|para\s+sezonit[^.;,]*)", re.I)


@lru_cache
def rules() -> dict:
    return json.loads((DATA / "concern_topics.json").read_text(encoding="utf-8"))


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


Forms = str | tuple[str, ...]  # a folded word, or a word with its folded lemmas as alternatives


def _has(words: list[Forms], cues: list[str]) -> bool:
    vocabulary = sorted({f for w in words for f in _alternatives(w)})

    def may_match(part: str) -> bool:  # a cheap look in the sorted forms before the walk along the words
        if not part.endswith("*"):
            i = bisect_left(vocabulary, part)
            return i < len(vocabulary) and vocabulary[i] == part
        i = bisect_left(vocabulary, part[:-1])
        return i < len(vocabulary) and vocabulary[i].startswith(part[:-1])
    return any(may_match(cue.split()[0]) and _cue_at(words, cue) >= 0 for cue in cues)


def _alternatives(word: Forms) -> tuple[str, ...]:
    return word if isinstance(word, tuple) else (word,)


def _matches(word: Forms, part: str) -> bool:
    return any(w.startswith(part[:-1]) if part.endswith("*") else w == part for w in _alternatives(word))


def _cue_spans(words: list[Forms], cue: str) -> list[int]:
    """Every position of a cue ('word', 'two words', 'prefix*') in folded words."""
    parts = cue.split()
    return [i for i in range(len(words) - len(parts) + 1)
            if all(_matches(words[i + k], p) for k, p in enumerate(parts))]


def _cue_at(words: list[Forms], cue: str) -> int:
    """Position of a cue in folded words, or -1."""
    spans = _cue_spans(words, cue)
    return spans[0] if spans else -1


def _lemmas(word: str) -> tuple[str, ...]:
    """Folded lemmas of a word form, so one cue reads every inflection: 'kafshua' -> 'kafshoj',
    'vjedhura' -> 'vjedhur', 'vjedh'; none for a form the morphology does not know."""
    return tuple(dict.fromkeys(fold(a.lemma) for a in analyse(word)))


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    forms: tuple[str, ...]  # the folded form first, then its lemmas


def _tokens(text: str) -> list[Word]:
    """The words of `text` with their spans, each with its lemmas."""
    out = []
    for m in _TOKEN.finditer(text):
        folded = _WORD.findall(fold(m.group(0)))
        lemmas = _lemmas(m.group(0)) if len(folded) == 1 else ()
        out.extend(Word(m.start(), m.end(), tuple(dict.fromkeys((f, *lemmas)))) for f in folded)
    return out


@lru_cache(maxsize=4096)
def _forms(text: str) -> tuple[tuple[str, ...], ...]:
    return tuple(w.forms for w in _tokens(text))


# ---------- units of text ----------
@dataclass
class Unit:
    start: int
    end: int
    section: str | None  # "concerns", "other" or None
    area: str | None = None  # the heading of a neighbourhood or village it stands under ('== LAGJJA E STACIONIT ==')


def _section_kind(heading: str) -> str | None:
    words, sections = _words(heading), rules()["sections"]
    if _has(words, sections["other"]):
        return "other"
    if _has(words, sections["concerns"]):
        return "concerns"
    return None


def _is_heading(line: str) -> bool:
    s = line.strip()
    letters = [c for c in re.sub(r"\([^)]*\)", "", s) if c.isalpha()]  # 'RENDI I DITËS (OK nga të gjithë)'
    if not letters or len(s) > 90 or _MARKER.match(s):
        return False
    upper = sum(c.isupper() for c in letters) / len(letters)
    return upper > 0.8 or (s.endswith(":") and len(s.split()) <= 8)


def _is_numbered_title(line: str) -> bool:
    """'2. Kuorumi', '5. Vendimet': a short numbered line without a sentence in it."""
    m = re.match(r"^\s*\d{1,2}\.\s+(\S.*)$", line)
    return bool(m) and len(m.group(1).split()) <= 5 and not re.search(r"[.;:!?\d]$", m.group(1).strip())


def _area(heading: str) -> str | None:
    """'== LAGJJA E STACIONIT ==' -> 'Lagjja e Stacionit': a heading that names a neighbourhood or village."""
    name = heading.strip(" =#*_:-–\t")
    if not _has(_words(name), rules()["area_words"]):
        return None
    def cased(word: str) -> str:
        if not word.isupper() or len(word) <= 3 and fold(word.lower()) not in ("e", "i", "te", "se"):
            return word  # 'NJA' stays an abbreviation
        if fold(word.lower()) in ("e", "i", "te", "se", "dhe"):
            return word.lower()
        return "-".join(part.capitalize() for part in word.split("-"))
    return " ".join(cased(w) for w in name.split())


def split_units(text: str) -> list[Unit]:
    """Paragraphs and list items with their spans and the kind of section they are in."""
    units: list[Unit] = []
    section, area, current, at = None, None, None, 0
    for line in text.split("\n"):
        start, end = at, at + len(line)
        at = end + 1
        if not line.strip():
            current = None
            continue
        if _is_heading(line) or (section == "other" and _is_numbered_title(line)):
            section, current = _section_kind(line), None
            area = _area(line) if section is None else None
            continue
        if _is_numbered_title(line) and _section_kind(line):
            section, current = _section_kind(line), None
            continue
        if section == "other" and _ITEM.match(_MARKER.sub("", line)):
            section = None  # '10:05 – pika 2 – vjedhjet': the discussion of an item follows the agenda
        lead = len(line) - len(line.lstrip())
        wrapped = line.lstrip()[:1].islower() or text[current.end - 1 : current.end] in (",", "-") if current else False
        if current is None or _MARKER.match(line) or not wrapped:
            current = Unit(start + lead, end, section, area)
            units.append(current)
        else:
            current.end = end
    return units


def _label(text: str) -> str | None:
    """'Data: …', 'Hyrje – Kryetari: …' -> the label before the colon (not a time like 23:00)."""
    m = re.match(r"^([^:\n]{1,40}?):(?!\d)", text)
    return m.group(1) if m else None


# ---------- one concern ----------
def _sentences(text: str, offset: int) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if re.search(r"\b(?:[A-ZÇË]|Z|Znj|Dr|nr|Nr|Prof)\.$", text[: m.start()]):
            continue  # 'Z. Ilir', 'nr. 2' do not end a sentence
        spans.append((offset + start, offset + m.start()))
        start = m.end()
    spans.append((offset + start, offset + len(text.rstrip())))
    return [(a, b) for a, b in spans if b > a]


def _request_at(sentence: str) -> int:
    """Where the request verb of a sentence ends, when it opens it or follows its subject ('Kërkon
    kamera', 'Ai kërkoi që Policia …', 'Banorët propozojnë …'); else -1."""
    words = _tokens(sentence)[:2]
    for i, w in enumerate(words):
        if _has([w.forms], rules()["request_verbs"]):
            return w.end
    return -1


def _is_request(sentence: str) -> bool:
    return _request_at(sentence) >= 0


def _request_activity(sentence: str) -> str:
    body = re.sub(r"^\s*(?:që|se)\s+", "", squash(sentence[_request_at(sentence):])).rstrip(" .;")
    return body[:1].upper() + body[1:]


def _topics(words: list[str]) -> list[dict]:
    return [t for t in rules()["topics"] if _has(words, t["cues"])]


def _opens(text: str, at: int) -> bool:
    """Does the word at `at` open the text, a line, a sentence, a clause or a list item? Not after an
    initial or a title ('N. Hasaj', 'Z. Hasaj')."""
    before = text[:at].rstrip(" \t")
    if not before or before[-1] in "\n:;!?–—(" or (before[-1] == "-" and len(before) < at):  # not 'Fushë-Gurras'
        return True
    if before[-1] != ".":
        return False
    prev = re.search(r"(\S+)\.$", before)
    word = prev.group(1) if prev else ""
    return not (fold(word + ".") in _titles() or re.fullmatch(r"[A-ZÇË][a-zçë]?|[Nn]r", word))


@lru_cache
def _titles() -> frozenset[str]:
    return frozenset(fold(h) for h in honorifics())


def _is_title(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


@lru_cache(maxsize=4096)
def _topic_words(text: str) -> tuple[Forms, ...]:
    """Folded words with their lemmas for topic cues, with the words of capitalised names blanked: a
    person's name ('Z. Ndriçim Hasaj', 'Drita Kola – KP') or a place's is not a topic. A capitalised word
    is a name inside a sentence, or at its start when another capitalised word follows."""
    tokens = list(_TOKEN.finditer(text))
    out: list[Forms] = []
    for i, m in enumerate(tokens):
        word = m.group(0)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        pair = nxt is not None and _is_title(nxt.group(0)) and not text[m.end() : nxt.start()].strip()
        folded = _WORD.findall(fold(word))
        if _is_title(word) and (pair or not _opens(text, m.start())):
            out.extend(["_"] * len(folded))
        else:
            lemmas = _lemmas(word) if len(folded) == 1 else ()
            out.extend(tuple(dict.fromkeys((f, *lemmas))) for f in folded)
    return tuple(out)


def _raise(level: str) -> str:
    return LEVELS[max(LEVELS.index(level) - 1, 0)]


def primary_topic(topics: list[dict]) -> dict | None:
    """The concern's own topic: the first of the highest priority (the topics are listed specific first)."""
    return min(topics, key=lambda t: LEVELS.index(t["priority"])) if topics else None


def _quoted(text: str, words: list[Word], at: int, length: int) -> str:
    """The words a reason rests on: the cue at `at` from the number before it in its clause
    ('5 aksidente, 2 me të vdekur' -> '2 me të vdekur'), and up to two words after it in the clause
    ('u mjekua në urgjencë')."""
    window, number_words = rules()["severity"]["window"], rules()["severity"]["counts"]  # not 'një', an article too
    boundary = re.compile(r"[,;:.!?„“”\"()]")
    start, end = at, at + length - 1
    for i in range(at - 1, max(at - window, 0) - 1, -1):
        if boundary.search(text[words[i].end : words[i + 1].start]):
            break
        if words[i].forms[0].isdigit() or words[i].forms[0] in number_words:
            start = i
            break
    while end + 1 < len(words) and end < at + length + 1 and not boundary.search(text[words[end].end : words[end + 1].start]):
        end += 1
    return squash(text[words[start].start : words[end].end])


def _severity(text: str, words: list[Word], kind: str) -> tuple[str | None, str | None]:
    """(the words of a stated harm of `kind`, the words of a negated one), each quoted from the text."""
    sev = rules()["severity"]
    forms = [w.forms for w in words]
    found = negated = None
    for cue in sev[kind]:
        n = len(cue.split())
        for at in _cue_spans(forms, cue):
            nots = [i for i in range(max(at - 3, 0), at) if forms[i][0] in sev["negations"]]
            if nots:
                negated = negated or squash(text[words[nots[0]].start : words[at + n - 1].end])
            else:
                found = found or _quoted(text, words, at, n)
    return found, negated


def _cited(words: list[Word], text: str, cues: list[str]) -> str | None:
    """The first words of the text that match one of the cues, as written."""
    forms = [w.forms for w in words]
    hits = [(at, len(cue.split())) for cue in cues for at in _cue_spans(forms, cue)[:1]]
    if not hits:
        return None
    at, n = min(hits)
    return squash(text[words[at].start : words[at + n - 1].end])


def suggest_priority(text: str) -> tuple[str, str]:
    """(level, reason) for a concern, from what its text says (rules in data/concern_topics.json):
    the priority as written; else deaths or injuries make it 'i lartë', as does a danger to a
    vulnerable group; repeated incidents raise the topic's level by one. The reason names the rule
    and quotes the words it rests on; it says the text names no victims only when no harm word
    appears in it at all."""
    r, words = rules(), _tokens(text)
    forms = [w.forms for w in words]
    for cue in r["explicit_priority"]:
        at = _cue_at(forms, cue)
        if at >= 0:
            written = text[words[at].start : words[min(at + 3, len(words) - 1)].end]
            level = normalise_priority(written)
            if level:
                return level, f"siç e shkruan teksti: „{squash(written)}”"
    topic = primary_topic(_topics(_topic_words(text)))
    level, reasons = (topic["priority"], [topic["reason"]]) if topic else (r["default"]["priority"], [r["default"]["reason"]])
    sev, esc = r["severity"], r["escalate"]
    deaths, no_death = _severity(text, words, "deaths")
    injuries, no_injury = _severity(text, words, "injuries")
    if deaths or injuries:
        level = LEVELS[0]
        reasons += [f"{sev['reasons'][k]}: „{q}”" for k, q in (("deaths", deaths), ("injuries", injuries)) if q]
    vulnerable, danger = _cited(words, text, esc["vulnerable"]), _cited(words, text, esc["danger"])
    if vulnerable and danger:
        level = LEVELS[0]
        reasons.append(f"{esc['reason']}: „{vulnerable}” dhe „{danger}”")
    rep = r["repeated"]
    pattern = r"\b(\d+)\s+(?:[a-z]+\s+)?(?:" + "|".join(rep["incidents"]) + r")\b"
    counts = [m for m in re.finditer(pattern, " ".join(f[0] for f in forms)) if int(m.group(1)) >= rep["min"]]
    if counts and level != LEVELS[0]:
        level = _raise(level)
        reasons.append(f"{rep['reason']}: „{counts[0].group(0)}”")
    if not (deaths or injuries):
        harmless = no_death or no_injury
        reasons.append(f"{sev['reasons']['no_harm']}: „{harmless}”" if harmless else
                       "" if _has(forms, r["evidence"]["harm"]) else sev["reasons"]["none"])
    return level, "; ".join(x for x in reasons if x)


def _places(text: str) -> list[str]:
    found = []
    for m in _PLACE.finditer(text):
        phrase = m.group(0).strip()
        if _PLACE_HEAD.match(phrase):
            phrase = re.sub(r"^(?:pranë|afër|te|tek)\s+", "", phrase)
            if phrase and phrase not in found and not re.fullmatch(r"[A-ZÇË][a-zçë]+", phrase):
                found.append(phrase)
    return found


@dataclass(frozen=True)
class Municipality:
    name: str  # as written: 'Bashkia Lumëz', 'Komuna e Fushëgurit'; '' when the text names none
    town: str  # 'Lumëz'
    jurisdiction: str  # a key of 'jurisdictions': 'al', 'xk'


def find_municipality(text: str) -> Municipality:
    """The municipality the text names most, and whose bodies answer for it (Albania or Kosovo, by the
    words the text uses for its institutions)."""
    found = [(m.group(1), m.group(2), m.group(3)) for m in _MUNICIPALITY.finditer(text)]
    words, places = _words(text), rules()["jurisdictions"]
    hits = {k: sum(len(_cue_spans(words, c)) for c in v["cues"]) for k, v in places.items() if not k.startswith("_")}
    jurisdiction = max(hits, key=lambda k: hits[k])
    if not found:  # 'Bashkia' / 'Komuna' itself
        return Municipality(places[jurisdiction]["municipality_word"], "", jurisdiction)
    head, of, town = max(found, key=found.count)  # ties: the one named first, not set order
    head = "Bashkia" if head.startswith("Bashki") else "Komuna"
    # 'Komuna e Fushëgurit' names its town in the genitive: the town's own name is not written
    return Municipality(squash(f"{head} {of or ''} {town}"), "" if of else town, jurisdiction)


def _responsible(topics: list[dict], municipality: Municipality) -> list[str]:
    """The bodies that answer for the concern's own topic, by role, in the municipality's jurisdiction."""
    topic = primary_topic(topics)
    roles = rules()["jurisdictions"][municipality.jurisdiction]["roles"]
    out = []
    for role in topic["responsible"] if topic else []:
        name = roles[role].replace("{municipality}", municipality.name)
        name = squash(name.replace("{town}", municipality.town)).replace("( ", "(").replace(" )", ")").replace("()", "")
        name = re.sub(r"^[,\s]+|[,\s]+$", "", re.sub(r",\s*(?=\)|$)", "", name))
        if name and name not in out:
            out.append(name)
    return out


def _is_speaker(label: str) -> bool:
    """'Banori A. Lala (pensionist)', 'Tregtarë të Tregut të Ri', 'Hasaj', 'Sh. Meta (KP)' speak; 'Kthesa te
    varrezat e vjetra' is what a list item is about."""
    bare = re.sub(r"\([^)]*\)", "", label).split()
    return (_has(_words(label), rules()["speaker_words"]) or parse_person(label) is not None
            or (0 < len(bare) <= 3 and all(w[:1].isupper() for w in bare) and not _has(_words(label), rules()["evidence"]["place_words"])))


def concern_row(text: str, unit: Unit, municipality: Municipality, document_id: str | None = None,
                find_measure: Callable[[str], dict | None] | None = None) -> dict:
    """One proposed row for the concern in `unit` of `text`."""
    raw = text[unit.start : unit.end]
    marker = _MARKER.match(raw)
    body_start = unit.start + (marker.end() if marker else 0)
    body = text[body_start : unit.end]
    speaker = ""
    colon = re.search(r":(?!\d)", body[:170])
    if colon and len(body[: colon.start()].split()) <= 20 and body[colon.end():].strip():
        if _is_speaker(body[: colon.start()]):  # else the label says what the item is about, and stays in it
            speaker = body[: colon.start()]
            body_start += colon.end()
            body = text[body_start : unit.end]
    body_start += len(body) - len(body.lstrip())
    body = body.strip()
    sentences = _sentences(body, body_start)
    kept = list(sentences)
    while len(kept) > 1 and _is_request(text[kept[-1][0] : kept[-1][1]]):
        kept.pop()
    start, end = kept[0][0], kept[-1][1]
    quote = text[start:end]
    requests = [text[a:b] for a, b in sentences if _is_request(text[a:b])]
    topics = _topics(_topic_words(quote)) or _topics(_topic_words(body))
    own = primary_topic(topics)
    topics = [own, *(t for t in topics if t is not own)] if own else []
    level, reason = suggest_priority(body)
    places = _places(quote)
    speaker_places = [p for p in [*_places(speaker), *([unit.area] if unit.area else [])]
                      if fold(p) not in fold(quote)]
    problem = squash(max((text[a:b] for a, b in kept), key=lambda x: evidence(x).points) if len(kept) > 1 else quote)
    problem = problem.strip("„“”\"«» ")
    problem = problem[:1].upper() + problem[1:]
    if not places and speaker_places:
        problem += f" ({', '.join(speaker_places)})"
    activities = [_request_activity(s) for s in requests if _request_activity(s)]
    if not activities:
        activities = list(topics[0]["activities"]) if topics else []  # the concern's own topic's usual ones
    deadline = _DEADLINE.search(body)
    row = {
        "nr": "", "problem": problem, "priority": level, "priority_as_written": None,
        "activities": activities, "responsible": _responsible(topics, municipality), "partners": [],
        "deadline_text": squash(deadline.group(0)) if deadline else rules()["deadlines"][level],
        "source": {**({"document_id": document_id} if document_id else {}), "start": start, "end": end, "quote": quote},
        "priority_reason": reason, "topics": [t["name"] for t in topics],
        "place": places + speaker_places, "figures": [squash(m.group(0)) for m in _FIGURE.finditer(quote)],
        "requested_by": squash(speaker) or None, "deadline_suggested": deadline is None,
        "measure": find_measure(problem) if find_measure else None,
    }
    return row


# ---------- what is not a concern ----------
def _is_task_header(labels: list[str]) -> bool:
    """Column labels of a task, status or plan table; a table with a problem column (concerns) is not one."""
    fields = [header_field(label) for label in labels]
    return sum(f is not None for f in fields) >= 2 and "problem" not in fields


def task_table_spans(text: str) -> list[tuple[int, int]]:
    """Lines that are rows of a task table, as the text keeps them: 'Nr.: 1; Detyra: …; Afati: …' (Word and
    PDF tables), or '| … | … |' under a header row of such labels. They record work, not concerns."""
    spans, task_table, at = [], None, 0
    for line in text.split("\n"):
        start, end = at, at + len(line)
        at = end + 1
        stripped = line.strip()
        if stripped.startswith("|") and stripped.count("|") >= 3:
            if task_table is None:  # the first row of a pipe table is its header
                task_table = _is_task_header([c.strip() for c in stripped.strip("|").split("|")])
            if task_table:
                spans.append((start, end))
            continue
        task_table = None
        labels = _CELL.findall(line)
        if len(labels) >= 2 and _is_task_header(labels):
            spans.append((start, end))
    return spans


def is_attendance(line: str) -> bool:
    """Who came, left or was there: '10:40 – vjen V. Dervishi (PRGJ)', 'N. Hasaj – KP Lumëz',
    'imam F. Lleshi – Myftinia; dom N. Gjoka'. Each part must be a person with at most an institution."""
    body = line[_MARKER.match(line).end():] if _MARKER.match(line) else line
    event = _TIME_EVENT.match(body)
    if event and _has(_words(body[event.end():])[:3], rules()["attendance_events"]):
        return True
    parts = split_people(body.strip())
    for part, _ in parts:
        parsed = parse_person(part)
        if not parsed:
            return False
        person, at = parsed
        rest = part[at + len(person.name):]
        if ":" in rest or not re.match(r"\s*(?:$|[–—,(-])", rest) or len(rest.split()) > 16:
            return False
    return bool(parts)


# ---------- the concerns of a text ----------
@dataclass(frozen=True)
class Evidence:
    points: int
    kinds: tuple[str, ...]  # 'topic', 'harm', 'lack', ... as in data 'evidence.weights'


@lru_cache(maxsize=4096)
def evidence(sentence: str) -> Evidence:
    """How much a sentence reads as a concern: a known topic, a harm, a lack, a complaint, a request,
    a frequency, a count, a place (weights in data 'evidence')."""
    r = rules()
    ev, forms = r["evidence"], _forms(sentence)
    found = {
        "topic": bool(_topics(_topic_words(sentence))),
        "harm": _has(forms, ev["harm"]), "lack": _has(forms, ev["lack"]), "complaint": _has(forms, ev["complaint"]),
        "request": _has(forms, r["request_verbs"]), "frequency": _has(forms, ev["frequency"]),
        "figure": bool(_FIGURE.search(sentence)) or any(
            f[0] in ev["number_words"] and i + 1 < len(forms) for i, f in enumerate(forms)),
        "place": bool(_places(sentence)) or _has(forms, ev["place_words"]),
    }
    kinds = tuple(k for k, v in found.items() if v)
    return Evidence(sum(ev["weights"][k] for k in kinds), kinds)


def _qualifies(sentence: str) -> bool:
    """A sentence states a concern when its evidence reaches the threshold (without a known topic, a
    harm or a lack must be part of it); not an answer or the meeting's record, nor a report of work
    done unless it reports a harm."""
    r = rules()
    forms, ev = _forms(sentence), evidence(sentence)
    if _has(forms, r["evidence"]["not_concern"]) or (_has(forms, r["report_words"]) and "harm" not in ev.kinds):
        return False  # 'u dërgua' reports work done, but 'u dërguan në spital' a harm
    return ev.points >= r["evidence"]["threshold"] and ("topic" in ev.kinds or {"harm", "lack"} & set(ev.kinds))


def _topic_names(text: str) -> list[str]:
    return [t["name"] for t in _topics(_topic_words(text))]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip(" ."))


def _listed(text: str, start: int, end: int) -> list[tuple[int, int, list[str]]]:
    """A sentence that lists topics clause by clause ('Qose lexon listën: gara me makina…, ndriçimi te
    Stacioni, qentë te Tregu i Ri'): its clauses on a topic, when at least three topics differ; else []."""
    sentence = text[start:end]
    colon = re.search(r":(?!\d)", sentence)
    cuts, depth = [colon.end() if colon else 0], 0
    for i, c in enumerate(sentence):
        depth += (c in "(„“") - (c in ")”")
        if c in ",;" and depth <= 0 and i >= cuts[0]:
            cuts.append(i + 1)
    cuts.append(len(sentence) + 1)
    clauses = []
    for a, b in zip(cuts, cuts[1:]):
        a, b = _trimmed(text, start + a, start + b - 1)
        names = _topic_names(text[a:b]) if b > a else []
        if names:
            clauses.append((a, b, names))
    return clauses if len({names[0] for _, _, names in clauses}) >= 3 else []


def _is_turn(text: str, u: Unit) -> bool:
    """A list item or a speaker's turn ('Banori A. Lala (pensionist): „…”'): one point, so one concern."""
    raw = text[u.start : u.end]
    label = _label(raw)
    return bool(_MARKER.match(raw)) or (label is not None and len(label.split()) <= 12)


def _unit_concerns(text: str, u: Unit) -> list[tuple[int, int, list[str]]]:
    """The concerns of one paragraph, as (start, end, topic names): the sentences of a list item or a
    speaker's turn that state a concern are one concern; in prose, a sentence joins the one before it
    when it shares its topic or has none of its own, and so does a request right after it; a sentence
    listing several topics gives one per clause."""
    found, last, turn = [], None, _is_turn(text, u)
    for i, (start, end) in enumerate(_sentences(text[u.start : u.end], u.start)):
        sentence = text[start:end]
        if last == i - 1 and _is_request(sentence) and not _topic_names(sentence):
            found[-1] = (found[-1][0], end, found[-1][2])  # what the speaker asked for, right after the concern
            last = i
            continue
        if not _qualifies(sentence):
            continue
        names = _topic_names(sentence)
        listed = _listed(text, start, end)
        if listed:
            found.extend(listed)
            last = None
        elif last is not None and (turn or (last == i - 1 and (not names or set(names) & set(found[-1][2])))):
            a, _, before = found[-1]
            found[-1] = (a, end, before + [n for n in names if n not in before])
            last = i
        else:
            found.append((start, end, names))
            last = i
    return found


def find_concerns(text: str) -> list[Unit]:
    """The units of `text` that state a concern (see the module doc)."""
    r = rules()
    tables = task_table_spans(text)

    def left_out(u: Unit) -> bool:
        unit = text[u.start : u.end]
        label = _label(unit)
        return (bool(label) and (_has(_words(label), r["metadata_labels"]) or _section_kind(label) == "other")) or \
            is_attendance(unit) or any(a <= u.start < b for a, b in tables)

    def item_title(u: Unit) -> bool:  # '10:05 – pika 2 – vjedhjet' names what the discussion below is about
        line = _MARKER.sub("", text[u.start : u.end])
        return bool(_ITEM.match(line)) and len(line.split()) <= 8

    units = [u for u in split_units(text) if u.section != "other" and not left_out(u)]
    if any(u.section == "concerns" for u in units):
        return [u for u in units if u.section == "concerns" and _words(text[u.start:u.end])]
    units = [u for u in units if not item_title(u)]
    chosen, seen = [], {}
    for u in units:
        for start, end, names in _unit_concerns(text, u):
            places = {fold(p) for p in _places(text[start:end])}
            before = seen.get(names[0]) if names else None
            if before is not None and (not places or not before or places & before):
                continue  # minutes come back to a topic several times: one row for it, unless both name places apart
            if names:
                seen.setdefault(names[0], set()).update(places)
            chosen.append(Unit(start, end, u.section, u.area))
    return chosen


def propose_rows(text: str, document_id: str | None = None,
                 find_measure: Callable[[str], dict | None] | None = None) -> list[dict]:
    """One proposed plan row per concern in `text`, numbered in order."""
    municipality = find_municipality(text)
    rows = [concern_row(text, u, municipality, document_id, find_measure) for u in find_concerns(text)]
    for n, row in enumerate(rows, 1):
        row["nr"] = str(n)
    return rows


def retriever_measure_finder(retriever, k: int = 3) -> Callable[[str], dict | None]:
    """`find_measure` over the strategy: the best hit that names a measure ('Masa …'), as a citation."""
    def find(text: str) -> dict | None:
        try:
            hits = retriever.search(text, k=k, kind="strategy")
        except Exception:  # no strategy indexed, or no retriever: the row simply has no measure
            return None
        for hit in hits:
            chunk = hit.chunk
            where = " ".join(list(getattr(chunk, "section", None) or []) + [chunk.text])
            m = re.search(r"\bMas(?:a|ës)\s+\d+(?:\.\d+)*[^\n.;]*", where)
            if m:
                return {"measure": squash(m.group(0))[:200], "chunk_id": chunk.id, "document_id": chunk.document_id,
                        "title": getattr(chunk, "title", ""), "page": chunk.page, "start": chunk.start,
                        "end": chunk.end, "quote": squash(chunk.text)[:400], "score": round(float(hit.score), 4)}
        return None
    return find
