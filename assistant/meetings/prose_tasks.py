"""Tasks written in sentences: "Kryetari i kërkoi Policisë që të hartojë një plan … deri në fund të muajit",
"DKA të bëjë kërkesë në MAShT …", "Obligohet DSHMS që brenda 15 ditëve ta pastrojë …".

A sentence is scored on evidence (FEATURES): a request verb, a verb in the subjunctive or imperative
(or the Gheg infinitive "me bo") read by ingest/albanian/morphology, an owner (a body of the gazetteer
or a person of the attendance), a deadline; against it a verb in the aorist or perfect (what was done),
a wish ("do të ishte mirë"), an offer ("mund të"), ongoing work, a deferral. The weights are a logistic
model in assistant/data/task_weights.json (bench/fit_tasks.py fits it on the zoo's sentence labels and
compares it, leave one style out, with the hand-set weights kept beside it). A sentence is a task when
its score is positive (probability above one half) and it has an owner.
"""
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from assistant.meetings import gazetteer
from assistant.meetings.dates import Deadline, find_deadline, is_marked
from assistant.meetings.gazetteer import fold
from ingest.albanian import morphology

# folded cues; the request verbs are matched as phrases, the tenses are left to the morphology
REQUEST = re.compile(r"\b(?:(?:i|iu|u)\s+kerku\w*|kerkohe[tn]|kerkoi\s+qe|kerk\w*(?:\s+\w+)?\s+nga|ngarkohe[tn]|u\s+ngarku\w*|"
                     r"detyrohe[tn]|u\s+detyru\w*|(?:u\s+)?obligu\w*|obligohe[tn]|(?:u\s+)?angazhu\w*|angazhohe[tn]|zotu\w*|rekomandohe[tn]|autorizohe[tn]|"
                     r"u\s+autorizu\w*|merr\w*\s+persiper|moren\s+persiper|duhet\s+(?:te|me|t')|ka\s+me|kane\s+me|"
                     r"premtoi|i\s+tha|detyr[eai]\b)")  # an active "kërkoi" alone is a participant's demand
DECISION = re.compile(r"\b(?:u\s+mor\s+vendim|u\s+vendos\w*|vendosi|vendosen|u\s+miratua|miratoi|u\s+dakord\w*|u\s+dakort\w*|"
                      r"u\s+ra\s+dakord|ra\s+dakord|u\s+pajtu\w*)\b")
# the one who asks: the owner comes after it ("X i kërkoi Policisë", "Kërkoj nga NJMF"); "X tha se do të …" is X's own word
ASKER = re.compile(r"\b(?:i|iu)?\s*(?:kerkoi|kerkuan|kerkoj|kerkojme|kerkon|ka\s+kerkuar|kane\s+kerkuar|i\s+tha|"
                   r"porositi|ngarkoi|obligoi)\b")
# the representative of a body speaks for it: "përfaqësuesi i Stacionit Policor", "drejtori i DKA-së"
SPOKESMAN = re.compile(r"\b(?:perfaqesues\w*|komandant\w*|drejtor\w*|zyrtar\w*|shef\w*|koordinator\w*)\s+(?:i|e)\s+$")
OBLIQUE_SUFFIX = re.compile(r"^-(?:se|es|it|ve|ut)\b")  # "SKN-së", "KKSB-së": genitive/dative of an abbreviation
# reported speech: the speaker of "X tha se … do të realizohet" owns nothing of a passive clause ("premtoi se" is a promise)
SAID = re.compile(r"\b(?:tha|theksoi|deklaroi|njoftoi|informoi|potencoi|shtoi|beri\s+te\s+ditur)\s+se\b")
ADDRESSEE = re.compile(r"\b(?:kerk\w+|tha|porositi|ngarkoi|obligoi)\s+$")  # "i kërkoi Policisë", before it: "SKN-së iu kërkua"
HEAD_NOUN = re.compile(r"\b([A-ZÇË][a-zçë]+)\s+(?:i|e|të|së)\s+$")  # a body named by what it is of
NAMED_BODY = re.compile(r"\b([A-ZÇË][a-zçë]+)\s+(?:e|i|të|për)\s+[A-ZÇË][a-zçë]+(?:\s+[A-ZÇË][a-zçë]+){0,2}")
PERSON = re.compile(r"(?:(?:z|znj|zj)\.\s*)?((?:[A-ZÇË]\.\s*)?[A-ZÇË][a-zçë]+(?:\s+[A-ZÇË][a-zçë]+)?)")
WISH = re.compile(r"\b(?:do\s+(?:te\s+)?ishte\s+mire|kishte\s+me\s+qene\s+mire|eshte\s+mire\s+(?:qe|te)|"
                  r"deshir\w*|do\s+te\s+deshiron\w*|shpreh\w*\s+shpres\w*|would\s+be\s+good)\b")
OFFER = re.compile(r"\b(?:mund\s+te|mund\s+t'|ofroi|ofron|ofruan|e\s+jep\b|ndoshta)")
ONGOING = re.compile(r"\b(?:vazhdon|vazhdojne|vazhdoi|vijon|vijojne|tashme|tash\s+me)\b")
DEFERRED = re.compile(r"\b(?:shty\w*|mbet\w*\s+per|nuk\s+u\s+votua|s'u\s+votua|per\s+diskutim|mori\s+ne\s+dijeni)\b")
TASK_PARTICLE = re.compile(r"\b(?:te|ta|t'|t’|me|ti|t'i|t'u|ta)\s*$")
CLITIC_GAP = re.compile(r"\b(?:te|ta|t'|t’)\s*(?:me|na|ju|i|u|ia|ua|jua)\s+$")  # "të më sjellin", "të na dërgojë"
FUTURE = re.compile(r"\bdo\s+(?:te|ta|t')\s*$")  # "do ta përcjellë": a commitment, weaker than a request
ENGLISH_TASK = re.compile(r"\b(?:to|will|shall|must|should)\s+(?!be\b|the\b|a\b)[a-z]{3,}")
NOT_AGENT = re.compile(r"(?:\bne|\bte|\btek|\bper|\bndaj|\bkundrejt|\bpa)\s+$")  # recipients: "kërkesë në MAShT"
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÇË„“\"(])|\n(?=\s*[^a-zçë\s])|\n\s*\n")
ABBREVIATED = re.compile(r"(?:^|\s)(?:[^\W\d_]{1,3}|nr|znj|prof|ing)\.$", re.I)  # "Z. Ahmeti", "M. Bajrami": no end
FUNCTION_WORDS = {"CONJ", "PR", "PART", "ADV", "CLIT_PRO", "PRON", "VB_PART", "INTJ", "NUM"}
PERFECT_AUX = {"ka", "kane", "kemi", "kam", "eshte", "jane", "kishte", "kishin", "ishte", "ishin", "u", "asht"}
FEATURES = ("request", "decision", "task_verb", "jussive", "future", "owner", "subject", "pledge", "due", "date", "listed",
            "past", "wish", "offer", "ongoing", "deferred")
# where a complement clause opens: "u dakortësua se …", "u vendos që …", after a comma or a colon
CLAUSE_OPEN = re.compile(r"(?:\b(?:se|qe)\b|[,:;(])\s*")
PARTICLE_BEFORE_VERB = re.compile(r"\s*(?:do\s+)?(?:te|ta|t'|t’)(?:\s*(?:i|u|ia|ua))?\s*$")
# a list of what the meeting asks for: "Ai ka përmendur këto rekomandime:", "u morën këto konkluzione: të …, të …"
LIST_CUE = re.compile(r"\b(?:rekomandim\w*|konkluz\w*|vendime\w*|detyrat|masat|recommendations?|conclusions?)\b")
BULLET = re.compile(r"\s*(?:[–—•*·-]|\d{1,2}[.)])\s*$")
CLAUSE = re.compile(r",\s+(?=t[eë]\s)")  # "…: të vazhdohet …, të rritet …, të bëhet apel …"
JUSSIVE_GAP = re.compile(r"\s*(?:-\w+\s*)?(?:t[eë]|ta|t['’]|t['’]i|me)\s*$")  # "DKA të bëjë", "Policia ta shtojë"
WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "data" / "task_weights.json"


@dataclass
class Evidence:
    features: dict[str, bool]
    owners: list[tuple[int, int, str]]
    deadline: Deadline


@dataclass
class Sentence:
    text: str
    start: int


@dataclass
class ProseTask:
    """What one sentence asks for: the action worded without its deadline, who owns it, and the sentence
    itself (where the action item points)."""
    action: str
    owner: list[str]
    deadline: Deadline
    sentence: Sentence
    score: float


def sentences(text: str, start: int = 0) -> list[Sentence]:
    """Sentences of a paragraph or line (a wrapped line continues its sentence)."""
    out, pos = [], 0
    for m in list(SENTENCE_END.finditer(text)) + [None]:
        if m and ABBREVIATED.search(text[pos:m.start()]):
            continue
        end = m.start() if m else len(text)
        piece = text[pos:end]
        lead = len(piece) - len(piece.lstrip(" \n\t–—-•*·"))
        body = piece.strip(" \n\t–—-•*·")
        if body:
            out.append(Sentence(body, start + pos + lead))
        pos = m.end() if m else end
    return out


def listed(text: str) -> list[tuple[Sentence, bool]]:
    """The sentences of `text`, each with whether it is an item of a list of what the meeting asks for: the
    bulleted lines under a line that names such a list and ends with ':', or the clauses of one sentence
    after "rekomandimet …:". Such an item may name no owner ("Në institucionet fetare të mbahen ligjërata")."""
    out: list[tuple[Sentence, bool]] = []
    open_list = False
    for sentence in sentences(text):
        line_start = text.rfind("\n", 0, sentence.start) + 1
        bulleted = bool(BULLET.fullmatch(text[line_start:sentence.start])) and line_start < sentence.start
        open_list = open_list and bulleted
        colon = sentence.text.find(":")
        if colon >= 0 and LIST_CUE.search(fold(sentence.text[:colon])) and CLAUSE.search(sentence.text, colon):
            head, pos = sentence.text[:colon + 1], colon + 1
            out.append((Sentence(head, sentence.start), False))
            bounds = [m.start() for m in CLAUSE.finditer(sentence.text, pos)] + [len(sentence.text)]
            for end in bounds:
                piece = sentence.text[pos:end]
                lead = len(piece) - len(piece.lstrip(" ,"))
                if piece.strip(" ,"):
                    out.append((Sentence(piece.strip(" ,"), sentence.start + pos + lead), True))
                pos = end
            continue
        out.append((sentence, open_list))
        if sentence.text.rstrip().endswith(":") and LIST_CUE.search(fold(sentence.text)):
            open_list = True
    return out


def _words(text: str):
    return re.finditer(r"[^\W\d_]+(?:['’][^\W\d_]+)?", text)


def task_verb(sentence: str, diacritics: bool) -> tuple[int, bool] | None:
    """Start of the first verb that asks for something, and whether it is only a future ("do të …"): a
    subjunctive after "të" ("të hartojë"; the 3rd plural and passive look like the present: "të hartojnë",
    "të mbahen"), after "me" the Gheg infinitive ("me bo", "me çue"), in English "to/will + verb"."""
    f = fold(sentence)
    for m in _words(sentence):
        before = f[max(0, m.start() - 9):m.start()]
        particle = TASK_PARTICLE.search(before[-6:]) or CLITIC_GAP.search(before)
        if not particle:
            continue
        verbs = [a for a in morphology.analyse(m[0], diacritics) if a.verb]
        if particle[0].strip() == "me":
            if any(a.participle or a.imperative or "Gheg" in a.tags for a in verbs):
                return m.start(), False
        elif any(a.subjunctive or "pres" in a.tags for a in verbs):
            return m.start(), bool(FUTURE.search(f[:m.start()]))
    english = ENGLISH_TASK.search(f)
    return (english.start(), False) if english else None


def past_verb(sentence: str, diacritics: bool, skip: list[tuple[int, int]]) -> bool:
    """An aorist ("raportoi", "u bë") or a perfect ("ka hartuar", "janë vendosur") outside the request cue.
    Function words that could also be read as a verb ("dhe" as an aorist of "jap") do not count."""
    f = fold(sentence)
    words = list(_words(sentence))
    for i, m in enumerate(words):
        if any(s <= m.start() < e for s, e in skip) or TASK_PARTICLE.search(f[max(0, m.start() - 6):m.start()]):
            continue
        analyses = morphology.analyse(m[0], diacritics)
        verbs = [a for a in analyses if a.verb]
        if not verbs or any(a.pos in FUNCTION_WORDS for a in analyses):
            continue
        prev = fold(words[i - 1][0]) if i else ""
        if prev in ("do", "qe", "mund"):
            continue
        if any(a.aorist and "2" not in a.tags for a in verbs) and all(a.aorist for a in verbs):
            return True
        if prev in PERFECT_AUX and any(a.participle or a.aorist for a in verbs):
            return True
    return False


def _passive(sentence: str, at: int, diacritics: bool) -> bool:
    word = re.match(r"[^\W\d_]+", sentence[at:])
    verbs = [a for a in morphology.analyse(word[0], diacritics) if a.verb] if word else []
    return bool(verbs) and all("pass" in a.tags for a in verbs)


def oblique(zone: str, start: int, end: int) -> bool:
    """A body named in the genitive or dative ("Raporti i Stacionit Policor", "t'ia dërgojë SKN-së", "Kuvendin e
    Komunës"): a possessor or a recipient, not who does the task. Read from the first word's case (morphology)
    or an abbreviation's suffix; the addressee of a request ("i kërkoi Policisë") and the body a representative
    speaks for ("përfaqësuesi i Stacionit Policor") are owners all the same."""
    f = fold(zone)
    asked = ADDRESSEE.search(f[:start]) or REQUEST.match(f, end + len(re.match(r"(?:-\w+)?\s*", f[end:])[0]))
    if asked or SPOKESMAN.search(f[:start]):
        return False
    if OBLIQUE_SUFFIX.match(f[end:end + 4]):
        return True
    first = re.match(r"[^\W\d_]+", zone[start:end])
    nouns = [a for a in morphology.analyse(first[0]) if a.pos == "NOUN"] if first else []
    return bool(nouns) and all(a.tags & {"gen_dat", "abl"} for a in nouns)


def _named(zone: str, end: int, role: str) -> tuple[int, str]:
    """A role followed by the person's name ("Kryetari Shaqir Totaj", "Koordinatorja e KKSB-së, znj. Albulena
    Morina") as "role (name)": the name is who answers for the task. A name is capitalised words that are not
    the words of a body's name ("Kryetari i Komunës" stays a role)."""
    m = re.match(r"(?:-\w+)?,?\s+" + PERSON.pattern, zone[end:])
    words = m[1].replace(".", " ").split() if m else []
    if not words or any(fold(w) in gazetteer.institution_words() or gazetteer.lookup(w) for w in words):
        return end, role
    return end + m.end(), f"{role} ({m[1]})"


def owners(sentence: str, verb_at: int | None, people: dict[str, str]) -> list[tuple[int, int, str]]:
    """Owners named before the task verb (or, with no verb, anywhere): bodies and attendance people;
    the one who asks ("Kryetari i kërkoi …"), recipients ("kërkesë në MAShT") and possessors ("Raporti i
    Policisë") are not owners."""
    zone = sentence if verb_at is None else sentence[:verb_at]
    f = fold(zone)
    asker = ASKER.search(f)
    found: list[tuple[int, int, str]] = []
    for s, e, body in gazetteer.find_bodies(zone):
        head = HEAD_NOUN.search(zone[:s])
        case_end = e  # the case is read on the body's first word, or on the head noun that names it
        if head and fold(head[1]) in gazetteer.institution_words():  # "Drejtoria e Emergjencave Civile"
            s, case_end = head.start(1), head.end(1)
        if (asker and s < asker.start()) or NOT_AGENT.search(f[:s]) or oblique(zone, s, case_end):
            continue
        if body.kind == "role":
            e, name = _named(zone, e, re.sub(r"-\w+$", "", zone[s:e]))
            if name != zone[s:e]:
                found.append((s, e, name))
                continue
        e += len(re.match(r"(?:-\w+)?(?:\s+[A-ZÇË][a-zçë]+(?![\w.]))?", zone[e:])[0]) if zone[e:e + 1] in "- " else 0
        found.append((s, e, re.sub(r"-\w+$", "", zone[s:e])))
    for m in NAMED_BODY.finditer(zone):  # "Drejtoria e Emergjencave Civile": a body the gazetteer lacks by that name
        nominative = any("nom" in a.tags for a in morphology.analyse(m[1]) if a.pos == "NOUN")
        if fold(m[1]) not in gazetteer.institution_words() or not nominative or any(s < m.end() and m.start() < e for s, e, _ in found):
            continue
        if not (asker and m.start() < asker.start()) and not NOT_AGENT.search(f[:m.start()]):
            found.append((m.start(), m.end(), m[0]))
    for m in re.finditer(r"\b[A-ZÇË][a-zçë]+(?:-[A-ZÇË][a-zçë]+)?\b", zone):
        inst = people.get(fold(m[0]))
        if inst is None or any(s <= m.start() < e for s, e, _ in found):
            continue
        if (asker and m.start() < asker.start()) or NOT_AGENT.search(f[:m.start()]):
            continue
        found.append((m.start(), m.end(), f"{m[0]} ({inst})" if inst else m[0]))
    first = re.match(r"([A-ZÇË][a-zçë]+)\s*(?:[-–:]|$)", zone.strip()) if not found and verb_at is not None else None
    if first and not morphology.analyse(first[1]):  # "Zyka të çojë …": a name the lexicon does not know
        found.append((zone.index(first[1]), zone.index(first[1]) + len(first[1]), first[1]))
    return sorted(found)


def clause_subject(sentence: str, verb_at: int, diacritics: bool) -> tuple[int, int, str] | None:
    """The grammatical subject of the clause whose verb is at `verb_at`, when it stands between the clause's
    opening and "(do) të": "u dakortësua se … skuadrat e pastrimit … do të jenë në aksion". The subject is a
    noun phrase opened by a noun the morphology can read in the nominative; a body the gazetteer lacks by name
    owns the task all the same. None when the clause has no such subject ("u vendos që të zbatohet …")."""
    f = fold(sentence[:verb_at])
    particle = PARTICLE_BEFORE_VERB.search(f)
    if not particle:
        return None
    opens = [m.end() for m in CLAUSE_OPEN.finditer(f, 0, particle.start())]
    start = opens[-1] if opens else 0
    phrase = sentence[start:particle.start()].strip()
    words = list(_words(phrase))
    if not words or len(words) > 8:
        return None
    head = [a for a in morphology.analyse(words[0][0], diacritics)]
    nouns = [a for a in head if a.pos == "NOUN"]
    # a nominative reading (the plural's accusative looks the same), and no verb or function word reading
    if not any("nom" in a.tags for a in nouns) or any(a.pos in FUNCTION_WORDS or a.verb for a in head):
        return None
    # a word read only as a verb ends the noun phrase: "anëtarët theksuan rëndësinë … për të garantuar" is a clause
    if any((r := morphology.analyse(w[0], diacritics)) and all(a.verb for a in r) for w in words[1:]):
        return None
    at = start + len(sentence[start:particle.start()]) - len(sentence[start:particle.start()].lstrip())
    return at, at + len(phrase), phrase


@lru_cache
def weights() -> dict[str, float]:
    """The weights the extractor uses: the set task_weights.json names under "use"."""
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    return data[data["use"]]


def score(features: dict[str, bool], w: dict[str, float] | None = None) -> float:
    w = w or weights()
    return w["bias"] + sum(w[k] for k, on in features.items() if on)


def evidence(sentence: Sentence, ref: date | None, people: dict[str, str], diacritics: bool,
             in_list: bool = False) -> Evidence:
    """The features of one sentence, its owners and its deadline."""
    t = sentence.text
    f = fold(t)
    request = REQUEST.search(f)
    verb = task_verb(t, diacritics)
    verb_at = verb[0] if verb else None
    who = owners(t, verb_at if verb_at is not None else (request.start() if request and request.start() else None),
                 people)
    if not who and verb_at is not None:
        who = owners(t, None, people)
    passive = verb_at is not None and _passive(t, verb_at, diacritics)
    # the subject of a passive is what is done ("Plani … do të miratohet"), not who does it
    subject = clause_subject(t, verb_at, diacritics) if verb_at is not None and not who and not passive else None
    if subject:
        who = [subject]
    said = SAID.search(f, 0, verb_at) if verb_at is not None else None
    if said and passive:  # "Zogaj tha se projekti do të realizohet nga kontraktori"
        who = [o for o in who if o[0] > said.start()]
    # the speaker, or the body a spokesman speaks for, says what it will do: "përfaqësuesi i Stacionit Policor … tha
    # se do të shtojnë …" is the body's commitment; "X njoftoi se Këshilli Bashkiak do të shqyrtojë …" reports another's
    pledge = (bool(said) and bool(verb) and verb[1] and not passive and any(o[0] < said.start() for o in who)
              and not any(o[0] > said.start() for o in who))
    deadline = find_deadline(t, ref)
    if not request and verb_at is not None:  # "Kryetari i kërkoi Policisë që të hartojë …"
        request = ASKER.search(f, 0, verb_at)
    decision = DECISION.search(f)
    skip = [m.span() for m in (request, decision) if m] + [(s, e) for s, e, _ in who]  # "Vata" is no aorist
    # the subject opens the sentence and "të" + its verb follows: a request by its form ("DKA të bëjë kërkesë")
    jussive = bool(verb) and not verb[1] and any(s < 25 and JUSSIVE_GAP.fullmatch(t[e:verb_at]) for s, e, _ in who)
    features = {"request": bool(request), "decision": bool(decision), "task_verb": bool(verb) and not verb[1],
                "jussive": jussive,
                "future": bool(verb) and verb[1], "owner": bool(who) and not subject, "subject": bool(subject),
                "pledge": pledge, "due": is_marked(deadline),
                "date": bool(deadline.due_text) and not is_marked(deadline), "listed": in_list,
                "past": past_verb(t if verb_at is None else t[:verb_at], diacritics, skip), "wish": bool(WISH.search(f)), "offer": bool(OFFER.search(f)),
                "ongoing": bool(ONGOING.search(f)), "deferred": bool(DEFERRED.search(f))}
    return Evidence(features, who, deadline)


def read(sentence: Sentence, ref: date | None, people: dict[str, str], diacritics: bool,
         w: dict[str, float] | None = None, in_list: bool = False) -> ProseTask | None:
    """The task a sentence sets, or None; outside a list of what the meeting asks for a task needs an owner."""
    t = sentence.text
    ev = evidence(sentence, ref, people, diacritics, in_list)
    value = score(ev.features, w)
    if value <= 0 or not (ev.owners or in_list):
        return None
    deadline = ev.deadline
    action = t
    if deadline.span:
        action = action[:deadline.span[0]] + action[deadline.span[1]:]
    action = re.sub(r"\s+([,.;])", r"\1", re.sub(r"\s+", " ", action)).strip(" ,.;:–—-")
    names = list(dict.fromkeys(name for _, _, name in ev.owners))
    return ProseTask(action, names, deadline, sentence, value)
