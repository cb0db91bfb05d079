"""Citizens' concerns -> proposed plan rows.

A concern is an item of a 'concerns' section of consultation notes (numbered, bulleted or a
paragraph), or, in texts without such a section (minutes, notes), a sentence that names a known
safety topic with a complaint, a figure or a place: adjacent sentences of a paragraph on one topic
are one concern, a sentence listing several topics clause by clause gives one per clause, and a
topic the minutes come back to gives one row. Attendance lines, rows of task tables and topic words
inside capitalised names ('Z. Ndriçim Hasaj' is not lighting) are never concerns. Each becomes a row in the
plan-row shape with the problem as the text states it, a suggested priority and its reason,
activities (what the citizens asked for, else the topic's usual ones), likely responsible
institutions, a suggested deadline, the source span, and the strategy measure it serves.

Pure: text in, dicts out. The rules are data (data/concern_topics.json); the strategy search
is passed in as `find_measure(text) -> citation | None`.
"""
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from assistant.search.albanian import fold
from assistant.meetings.gazetteer import honorifics
from assistant.meetings.notes import parse_person, split_people
from assistant.plan.extract import LEVELS, header_field, normalise_priority, squash

DATA = Path(__file__).resolve().parents[1] / "data"
_WORD = re.compile(r"[a-z0-9]+")
_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)](?!\d)|[-–•*▪·●➢►→✔✘])\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?…”\"])\s+(?=[A-ZÇË„“\"])")
_PLACE = re.compile(
    r"\b(?:(?:Lagj(?:ja|en|es|e)|Rrug(?:a|ën|ës|e)|Bulevard(?:i|in|it)|Sheshi|Sheshin|Parku|Parkun|Tregu|Tregut|Tregun|"
    r"fshat(?:i|in|it)|NJA|Njësia Administrative|Shkoll(?:a|ës|ën)|Gjimnaz(?:i|it|in)|Qendr(?:a|ës)|Kryqëzim(?:i|in)|"
    r"ish-[a-zçë]+|pranë|afër|te|tek)\s+(?:[a-zçë-]+\s+){0,3}?)?"
    r"(?:[A-ZÇË][\w’'-]+|„[^”]+”|\"[^\"]+\")(?:\s+(?:e|i|të|së|\d+|[A-ZÇË][\w’'-]+|„[^”]+”))*")
_PLACE_HEAD = re.compile(r"^(?:Lagj|Rrug|Bulevard|Shesh|Park|Treg|fshat|NJA|Njësia|Shkoll|Gjimnaz|Qendr|Kryqëzim|ish-|pranë|afër|te |tek )")
_FIGURE = re.compile(r"(?<![\w.:])(?<!nr\. )(?<![Pp]ika )(?:rreth\s+)?\d+(?:[.,]\d+)?(?:\s*[–-]\s*\d+)?(?:\s+(?:nga\s+\d+\s+)?[^\s,.;:]+){1,3}")
_MUNICIPALITY = re.compile(r"\bBashki(?:a|së|në|ak)\s+(?:e\s+)?([A-ZÇË][a-zçë]+)")
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


def _has(words: list[str], cues: list[str]) -> bool:
    return any(_cue_at(words, cue) >= 0 for cue in cues)


def _cue_at(words: list[str], cue: str) -> int:
    """Position of a cue ('word', 'two words', 'prefix*') in folded words, or -1."""
    parts = cue.split()
    for i in range(len(words) - len(parts) + 1):
        ok = True
        for k, p in enumerate(parts):
            w = words[i + k]
            if not (w.startswith(p[:-1]) if p.endswith("*") else w == p):
                ok = False
                break
        if ok:
            return i
    return -1


# ---------- units of text ----------
@dataclass
class Unit:
    start: int
    end: int
    section: str | None  # "concerns", "other" or None


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


def split_units(text: str) -> list[Unit]:
    """Paragraphs and list items with their spans and the kind of section they are in."""
    units: list[Unit] = []
    section, current, at = None, None, 0
    for line in text.split("\n"):
        start, end = at, at + len(line)
        at = end + 1
        if not line.strip():
            current = None
            continue
        if _is_heading(line) or (section == "other" and _is_numbered_title(line)):
            section, current = _section_kind(line), None
            continue
        if _is_numbered_title(line) and _section_kind(line):
            section, current = _section_kind(line), None
            continue
        if section == "other" and _ITEM.match(_MARKER.sub("", line)):
            section = None  # '10:05 – pika 2 – vjedhjet': the discussion of an item follows the agenda
        lead = len(line) - len(line.lstrip())
        wrapped = line.lstrip()[:1].islower() or text[current.end - 1 : current.end] in (",", "-") if current else False
        if current is None or _MARKER.match(line) or not wrapped:
            current = Unit(start + lead, end, section)
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


def _is_request(sentence: str) -> bool:
    words = _words(sentence)
    return bool(words) and _has(words[:1], rules()["request_verbs"])


def _request_activity(sentence: str) -> str:
    body = re.sub(r"^\S+\s+(?:që\s+)?", "", squash(sentence)).rstrip(" .;")
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


def _topic_words(text: str) -> list[str]:
    """Folded words for topic cues, with the words of capitalised names blanked: a person's name
    ('Z. Ndriçim Hasaj', 'Drita Kola – KP') or a place's is not a topic. A capitalised word is a name
    inside a sentence, or at its start when another capitalised word follows."""
    tokens = list(_TOKEN.finditer(text))
    out = []
    for i, m in enumerate(tokens):
        word = m.group(0)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        pair = nxt is not None and _is_title(nxt.group(0)) and not text[m.end() : nxt.start()].strip()
        folded = _WORD.findall(fold(word))
        out.extend(["_"] * len(folded) if _is_title(word) and (pair or not _opens(text, m.start())) else folded)
    return out


def _raise(level: str) -> str:
    return LEVELS[max(LEVELS.index(level) - 1, 0)]


def suggest_priority(text: str) -> tuple[str, str]:
    """(level, reason) for a concern: as the text states it, else by topic, raised for a danger
    to a vulnerable group or for repeated incidents."""
    r, words = rules(), _words(text)
    for cue in r["explicit_priority"]:
        at = _cue_at(words, cue)
        if at >= 0:
            level = normalise_priority(" ".join(words[at : at + 4]))
            if level:
                return level, "siç e shkruan teksti"
    topics = _topics(_topic_words(text))
    if topics:
        best = min(topics, key=lambda t: LEVELS.index(t["priority"]))
        level, reason = best["priority"], best["reason"]
    else:
        level, reason = r["default"]["priority"], r["default"]["reason"]
    esc = r["escalate"]
    if level != LEVELS[0] and _has(words, esc["vulnerable"]) and _has(words, esc["danger"]):
        return LEVELS[0], esc["reason"]
    rep = r["repeated"]
    pattern = r"\b(\d+)\s+(?:[a-z]+\s+)?(?:" + "|".join(rep["incidents"]) + r")\b"
    counts = [int(m.group(1)) for m in re.finditer(pattern, " ".join(words))]
    if level != LEVELS[0] and counts and max(counts) >= rep["min"]:
        return _raise(level), f"{reason}; {rep['reason']} ({max(counts)})"
    return level, reason


def _places(text: str) -> list[str]:
    found = []
    for m in _PLACE.finditer(text):
        phrase = m.group(0).strip()
        if _PLACE_HEAD.match(phrase):
            phrase = re.sub(r"^(?:pranë|afër|te|tek)\s+", "", phrase)
            if phrase and phrase not in found and not re.fullmatch(r"[A-ZÇË][a-zçë]+", phrase):
                found.append(phrase)
    return found


def _municipality(text: str) -> str:
    names = [m.group(1) for m in _MUNICIPALITY.finditer(text)]
    return max(set(names), key=names.count) if names else ""


def _responsible(topics: list[dict], municipality: str) -> list[str]:
    out = []
    for t in topics:
        for name in t["responsible"]:
            name = squash(name.replace("{municipality}", municipality)).replace(" ,", ",").replace(" (", " (")
            name = re.sub(r"\s+(?=\()", " ", name).strip()
            if name not in out:
                out.append(name)
    return out


def concern_row(text: str, unit: Unit, municipality: str, document_id: str | None = None,
                find_measure: Callable[[str], dict | None] | None = None) -> dict:
    """One proposed row for the concern in `unit` of `text`."""
    raw = text[unit.start : unit.end]
    marker = _MARKER.match(raw)
    body_start = unit.start + (marker.end() if marker else 0)
    body = text[body_start : unit.end]
    speaker = ""
    colon = re.search(r":(?!\d)", body[:170])
    if colon and len(body[: colon.start()].split()) <= 20 and body[colon.end():].strip():
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
    level, reason = suggest_priority(body)
    places = _places(quote)
    speaker_places = [p for p in _places(speaker) if fold(p) not in fold(quote)]
    problem = squash(quote)
    problem = problem[:1].upper() + problem[1:]
    if not places and speaker_places:
        problem += f" ({', '.join(speaker_places)})"
    activities = [_request_activity(s) for s in requests if _request_activity(s)]
    if not activities:
        activities = [a for t in topics[:2] for a in t["activities"]]
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
def _qualifies(sentence: str) -> bool:
    """A sentence on a topic states a concern when it complains, counts or places; not a report of work done."""
    r, words = rules(), _words(sentence)
    if _has(words, r["report_words"]):
        return False
    return bool(_has(words, r["concern_markers"]) or _FIGURE.search(sentence) or _places(sentence))


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


def _unit_concerns(text: str, u: Unit) -> list[tuple[int, int, list[str]]]:
    """The concerns of one paragraph, as (start, end, topic names): adjacent sentences that share a topic
    are one concern; a sentence listing several topics gives one per clause."""
    found, joinable = [], False
    for start, end in _sentences(text[u.start : u.end], u.start):
        sentence = text[start:end]
        names = _topic_names(sentence)
        if not names or not _qualifies(sentence):
            continue
        listed = _listed(text, start, end)
        if listed:
            found.extend(listed)
            joinable = False
        elif joinable and set(names) & set(found[-1][2]):
            a, _, before = found[-1]
            found[-1] = (a, end, before + [n for n in names if n not in before])
        else:
            found.append((start, end, names))
            joinable = True
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

    units = [u for u in split_units(text) if u.section != "other" and not left_out(u)]
    if any(u.section == "concerns" for u in units):
        return [u for u in units if u.section == "concerns" and _words(text[u.start:u.end])]
    chosen, seen = [], set()
    for u in units:
        for start, end, names in _unit_concerns(text, u):
            if names[0] in seen:  # minutes come back to a topic several times: one row for it
                continue
            seen.add(names[0])
            chosen.append(Unit(start, end, u.section))
    return chosen


def propose_rows(text: str, document_id: str | None = None,
                 find_measure: Callable[[str], dict | None] | None = None) -> list[dict]:
    """One proposed plan row per concern in `text`, numbered in order."""
    municipality = _municipality(text)
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
