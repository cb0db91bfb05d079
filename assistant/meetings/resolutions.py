"""Decisions written inline in the discussion, wherever a sentence records one.

A sentence records a decision when one of its verbs is a resolution verb (assistant/data/resolutions.json:
vendos, miratoj, pajtoj, aprovoj, pranoj) in a form that states the meeting's outcome, told by the morphology
(ingest/albanian/morphology) or, for a form its shipped tables do not know, by its ending:
- the non-active aorist after 'u' ('u vendos që', 'u miratua', 'u pajtuan'; Gheg 'u pajtue' is 'u' + participle);
- the first person plural aorist ('vendosëm', 'u pajtuam');
- the active aorist with the meeting as its subject ('Këshilli miratoi', 'të gjithë pranuan');
- the present non-active ('miratohet njëzëri', 'miratohen');
and 'ra dakord' / 'dakord të gjithë:', 'Këshilli mori në dijeni', or the English 'agreed', 'decided'. A negated cue ('nuk u vendos',
's'u miratua') or a sentence that says no decision was taken ('pa vendim') records none.

The decision is what follows the cue's 'që', 'se' or colon, else the whole sentence; a colon list
('këshilli vendosi: miratimin e X; hartimin e Y') gives one decision per part, its head noun put back in the
nominative ('Miratimi i X'); an approval of the agenda is the record's formula 'Miratohet rendi i ditës'.
"""
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.meetings.gazetteer import fold
from ingest.albanian import morphology

DATA = Path(__file__).resolve().parents[1] / "data" / "resolutions.json"
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|:")
# a line that opens a new block: a list marker, a number, a time stamp, a table row or a heading; one that
# ends in a colon closes its block
NEW_BLOCK = re.compile(r"\n\s*\n|(?<=:)[ \t]*\n|\n(?=[ \t]*(?:[-–—•*·→>✔✓✘✗☐☑\[#|]|\d{1,2}[.):]|[A-Za-z][.)]\s|[IVX]{1,4}\.\s))")
SENTENCE_END = re.compile(r"(?<=[^\W\d]{3})[.!?](?=\s+[\"„“(]?[A-ZÇË\d])|[.!?](?=[ \t]*(?:\n|$))|\?")
NEGATION = {"nuk", "s'u", "s'", "as", "not", "no", "jo", "pa"}
NO_DECISION = re.compile(r"\b(?:pa\s+vendim|nuk\s+u\s+mor\s+(?:asnje\s+)?vendim|s'u\s+mor\s+vendim|no\s+decision)\b")
# 'VENDIM 2:', 'decision:', 'Konkluzion:' opening a sentence (after a time stamp or a speaker)
LABEL = re.compile(r"^(?:\[?\d{1,2}:\d{2}\]?\s*[–—-]?\s*)?(?:[^:\n]{2,40}:\s*)?(?:vendim\w*|decision|konkluz\w*)\s*"
                   r"(?:nr\.?\s*)?\d{0,2}\s*:\s*")
AGENDA = re.compile(r"\b(?:rend\w*\s+(?:e|i|te)\s+dites|agend\w*)\b")
AGENDA_TERMS = re.compile(r"^\s*,?\s*(pa\s+ndryshime|pa\s+verejtje|njezeri)\b")


@dataclass(frozen=True)
class Resolution:
    text: str
    start: int  # span of the text the decision was read from
    end: int


@lru_cache
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: hard-wrapped lines joined, a list item, a time-stamped line or a heading starts anew."""
    out, pos = [], 0
    bounds = [m.start() for m in NEW_BLOCK.finditer(text)] + [len(text)]
    for stop in bounds:
        block_start = pos
        for m in SENTENCE_END.finditer(text, block_start, stop):
            out.append((block_start, m.end()))
            block_start = m.end()
        if text[block_start:stop].strip():
            out.append((block_start, stop))
        pos = stop
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in out if text[s:e].strip()]


def _forms(word: str, diacritics: bool) -> set[str]:
    """What an outcome form of a resolution verb this word is: 'aor_pass', 'aor_act', '1pl', 'pres_pass', 'ptcp'."""
    lemmas = _data()["lemmas"]
    kinds = set()
    for a in morphology.analyse(word, diacritics):
        if not a.verb or a.lemma not in lemmas:
            continue
        if a.aorist:
            kinds.add("1pl" if {"1", "pl"} <= a.tags else "aor_pass" if "pass" in a.tags else "aor_act")
        elif "pres" in a.tags and "pass" in a.tags and "3" in a.tags:
            kinds.add("pres_pass")
        elif a.participle:
            kinds.add("ptcp")
    if kinds:
        return kinds
    for stems in lemmas.values():  # by ending, for a form the shipped tables do not know ('vendosëm', 'miratuam')
        for stem in stems:
            if word.startswith(stem):
                rest = word[len(stem):]
                if rest in ("em", "am"):
                    kinds.add("1pl")
                elif rest in ("i", "en", "an", "a", "ua", "uan", ""):
                    kinds.update(("aor_act", "aor_pass"))
                elif rest in ("het", "hen"):
                    kinds.add("pres_pass")
                elif rest in ("e", "ar"):
                    kinds.add("ptcp")
    return kinds


def _lemma_needs_clause(word: str, diacritics: bool) -> bool:
    needs = set(_data()["sense_needs_clause"])
    lemmas = {a.lemma for a in morphology.analyse(word, diacritics) if a.verb}
    return bool(lemmas & needs) or any(word.startswith(s) for lemma in needs for s in _data()["lemmas"][lemma])


def _cue(words: list[re.Match], diacritics: bool) -> int | None:
    """Index of the word that makes the sentence a decision, or None (also when a cue in it is negated)."""
    data = _data()
    collective = set(data["collective"])
    found = None
    for i, w in enumerate(words):
        word, prev = w[0], words[i - 1][0] if i else ""
        before = {x[0] for x in words[max(0, i - 3):i]}
        nxt = [x[0] for x in words[i + 1:i + 4]]
        kinds = _forms(word, diacritics) if len(word) > 4 else set()
        noted = word in data["noted"] and prev == "ne" and bool(before & collective | {"mori", "moren", "merret"} & before)
        ok = word in data["english"] or word in data["agreement"] or noted or bool(kinds) and (
            (prev == "u" and kinds & {"aor_pass", "ptcp", "aor_act"})
            or "1pl" in kinds
            or ("aor_act" in kinds and before & collective)
            or ("pres_pass" in kinds and not _lemma_needs_clause(word, diacritics)))
        if ok and (before & NEGATION or prev.startswith("s'")):
            return None  # 'nuk u vendos gjë': the sentence says no decision was taken
        if ok and kinds and _lemma_needs_clause(word, diacritics) and not {"qe", "se", ":"} & set(nxt[:2]):
            continue  # 'u vendos një tabelë' placed one, 'X u pajtua dhe tha' agreed alone; 'u vendos që' decided
        if ok and found is None:
            found = i
    return found


def nominative(phrase: str) -> str:
    """'miratimin e rendit' -> 'Miratimi i rendit', 'përgatitjen e fletëpalosjes' -> 'Përgatitja e …'."""
    words = phrase.split(" ", 2)
    head = words[0]
    if re.search(r"imin$", head, re.I):
        words[0] = head[:-1]
        if len(words) > 1 and words[1] == "e":
            words[1] = "i"
    elif re.search(r"je?n$", head, re.I):
        words[0] = head[:-1] + "a" if head.endswith("jen") else head
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def _verbal_noun(word: str, diacritics: bool) -> bool:
    """'miratimi', 'hartimin', 'përgatitja': the noun of an action, which heads an item of a decisions list."""
    return any(a.pos == "NOUN" and a.lemma.endswith(("im", "je")) for a in morphology.analyse(word, diacritics))


def _parts(text: str, start: int, diacritics: bool) -> list[Resolution]:
    """A colon list: ';' parts, or ',' / 'dhe' parts when every part opens with a noun ('miratimi i …')."""
    pieces = list(re.finditer(r"[^;]+", text))
    if len(pieces) < 2:
        commas = list(re.finditer(r"(?:(?<=,)|(?<=\bdhe)|^)\s*([^,]+?)(?=\s*,|\s+dhe\s+|$)", text))
        firsts = [re.match(r"\s*([^\W\d]+)", c[1]) for c in commas]
        if len(commas) >= 2 and all(f and _verbal_noun(f[1], diacritics) for f in firsts):
            pieces = [c for c in commas]
    out = []
    for p in pieces:
        body = p[0].strip(" .,\n")
        if len(body.split()) >= 2:
            s = start + p.start() + p[0].find(body)
            out.append(Resolution(nominative(" ".join(body.split())), s, s + len(body)))
    return out


def read(text: str) -> list[Resolution]:
    """Every decision the sentences of the notes record, in order."""
    diacritics = not morphology.typed_without_diacritics(text)
    folded = fold(text)
    out = []
    for s, e in sentences(text):
        f = folded[s:e]
        if NO_DECISION.search(f) or "?" in f:
            continue
        label = LABEL.match(f)
        if label:
            body = " ".join(text[s + label.end():e].strip(" .\n").split())
            if len(body.split()) >= 2:
                out.append(Resolution(body[:1].upper() + body[1:], s, e))
            continue
        words = list(WORD.finditer(f))
        i = _cue(words, diacritics)
        if i is None:
            continue
        cue = words[i]
        if AGENDA.search(f[max(0, cue.start() - 60):cue.start()]):
            terms = AGENDA_TERMS.match(f[cue.end():])
            out.append(Resolution("Miratohet rendi i ditës" + (f" {text[s + cue.end():][terms.start(1):terms.end(1)]}"
                                                             if terms else ""), s, e))
            continue
        after = re.match(r"[^:]{0,25}?(?:\b(?:qe|se|that|to)\b|:)\s*", f[cue.end():])
        if after and ":" in after[0]:
            body_start = s + cue.end() + after.end()
            parts = _parts(text[body_start:e], body_start, diacritics)
            if len(parts) >= 2:
                out += parts
                continue
        if after:
            body_start = s + cue.end() + after.end()
            body = text[body_start:e].strip(" .\n")
        else:
            body_start, body = s, text[s:e].strip(" .\n")
        body = " ".join(body.split())
        if len(body.split()) >= 3:
            out.append(Resolution(body[:1].upper() + body[1:], s, e))
    return out
