"""Grounded answers without an LLM: the sentences of retrieved passages that answer a question,
each carrying its citation, or a plain abstention with the nearest passages as "see also".

Pure: `compose(question, hits, doc_texts)` takes retrieval hits and the stored texts of their
documents and returns an `Answer`; offsets always point into the stored document text.
"""
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.answers import evidence as support
from assistant.answers import sentence_evidence as sentences
from assistant.answers.injection import addressed_to_assistant
from assistant.meetings.dates import MONTHS, MONTHS_EN
from assistant.search.albanian import (english_function_words, fold, glossary, lexical_tokens, stem, stop_words,
                                      translations, words)

DATA = Path(__file__).resolve().parents[1] / "data"

DEFAULT_K = 10  # passages retrieved to answer from
MAX_SENTENCES = 3
# a further sentence (another passage, same document) joins unless the sentence model all but rules
# it out; chosen on dev (qa-dev and realtexts dev, ratios .5, .2, .05, .01, 0)
KEEP_RATIO = 0.01
SEE_ALSO = 3
CONTEXT_WEIGHT = 0.5  # a follow-up's subject, taken from the question before, counts half
STRONG_RANK = 5  # a passage retrieval ranked this high can speak for its document in a disagreement
STRONG_COVERAGE = 0.5  # … by a sentence holding the question's terms about as well as the best one
# Partial credit for a query term found near the sentence rather than in it.
SECTION_CREDIT, CHUNK_CREDIT = 0.5, 0.35
MIN_SENTENCE_WORDS = 5  # shorter pieces (labels, list letters) are joined with what follows
MAX_SENTENCE_CHARS = 400
MAX_JOINS = 2
CONTEXT_CHARS = 300
HEADING_WORDS = 12  # a line this short without end punctuation reads as a heading


@lru_cache
def _words() -> dict:
    return json.loads((DATA / "answer_words.json").read_text(encoding="utf-8"))


def phrase(lang: str, key: str) -> str:
    return _words()["phrases"][lang][key]


# ---------------------------------------------------------------- question language

def question_lang(question: str) -> str:
    """'en' or 'sq' by counting marker words; an Albanian letter (ë, ç) counts for Albanian,
    so "How many inhabitants does Korçë have?" stays English."""
    tokens = words(question)
    en = {fold(w) for w in _words()["english_markers"]}
    sq = {fold(w) for w in _words()["albanian_markers"]}
    n_en = sum(t in en for t in tokens)
    n_sq = sum(t in sq for t in tokens) + bool(re.search(r"[ëçËÇ]", question))
    return "en" if n_en > n_sq else "sq"


# ---------------------------------------------------------------- sentences with offsets

_ABBREVIATIONS = {"nr", "etj", "psh", "z", "znj", "sh", "dt", "fq", "pra", "vol", "art", "p", "sh.a", "kap"}
# A period ends a sentence when whitespace and a capital, digit, quote or bullet follow.
_END = re.compile(r"[.!?]+(?=\s+[\"“„«(A-ZËÇ0-9•·\-])")
# A single line break ends a sentence after end punctuation or before a list marker; other
# breaks are wrapped lines (PDF text) and do not.
_LINE_END = re.compile(r"(?<=[.!?:;])[ \t]*\n|\n(?=[ \t]*(?:[•·*\-–]|[a-zA-Z0-9]{1,2}[.)]\s))")
# A blank line before a lowercase word that is not a list letter is a page or column break
# inside a sentence (PDF text), not the end of one.
_CONTINUED = re.compile(r"[a-zëç](?![.)])")
_LABEL = re.compile(r"(?:^|\s)[A-ZËÇ][\w-]*\s+\d{1,3}$")  # "Masa 12." or "Neni 5." is a label, not an end
_SOFT = re.compile(r";\s+|</p>\s*|\t+")
_INLINE_ITEM = re.compile(r";\s+(?=[•·*\-–]\s)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of `text`, whitespace trimmed.

    Ends: blank lines (unless a lowercase word continues the sentence), a line break after end
    punctuation or before a list marker, and .!? before a capital;
    abbreviations ("Nr.", "etj."), numbered labels ("Masa 12.") and dates do not end one.
    Over-long pieces (table rows) are cut at semicolons, tabs and paragraph tags."""
    cuts = {0, len(text)}
    for m in re.finditer(r"\n\s*\n", text):
        if not _CONTINUED.match(text, m.end()) or re.search(r"[.!?:;]\s*$", text[max(0, m.start() - 3) : m.start()]):
            cuts.update((m.start(), m.end()))
    for m in _LINE_END.finditer(text):
        cuts.add(m.start())
    for m in _END.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        last = fold(before.split()[-1]) if before.split() else ""
        if last.strip("(").lower() in _ABBREVIATIONS or len(last) == 1 or _LABEL.search(before):
            continue
        cuts.add(m.end())
    spans = []
    bounds = sorted(cuts)
    for a, b in zip(bounds, bounds[1:]):
        spans.extend(_split_long(text, a, b))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s]


def _split_long(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """An over-long piece that holds an inline list ("…; - Në lagjen nr 3; Tek stacioni i
    trenit; - Në lagjen nr 4; …") is cut before each item, so an item keeps its label and its
    value together; other pieces (and items still too long) at semicolons, tabs and tags."""
    if b - a <= MAX_SENTENCE_CHARS:
        return [(a, b)]
    items = [m.end() for m in _INLINE_ITEM.finditer(text, a, b)]
    if items:
        bounds = [a, *items, b]
        return [piece for x, y in zip(bounds, bounds[1:]) for piece in _split_soft(text, x, y)]
    return _split_soft(text, a, b)


def _split_soft(text: str, a: int, b: int) -> list[tuple[int, int]]:
    if b - a <= MAX_SENTENCE_CHARS:
        return [(a, b)]
    out, start = [], a
    for m in _SOFT.finditer(text, a, b):
        if m.end() - start >= 40:
            out.append((start, m.end()))
            start = m.end()
    out.append((start, b))
    return out


_MONTH = "(?:" + "|".join(MONTHS + MONTHS_EN).replace("nentor", "n[eë]ntor") + r")\w*"  # raw text, matched with re.I
_WEEKDAY = r"(?:(?:e\s+)?(?:h[eë]n[eë]|mart[eë]|m[eë]rkur[eë]|enjte|premte|shtun[eë]|diel)|\w+day)"
# A news item's date stamp glued before its first sentence: "2018/12/05 - 4:39 Këshilli …",
# "Friday , February 23 2018 Bashkia …": cut off, so the answer quotes the sentence only.
_DATE = rf"(?:\d{{4}}/\d{{1,2}}/\d{{1,2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}})"
_TIME = r"\s*[-–,]?\s*\d{1,2}:\d{2}"
# only a stamp that reads as one (a weekday before, a time after, or yyyy/mm/dd): a plain date
# opening a line of minutes ("12.03.2024 u mblodh …") is what a "kur" question asks for
_DATESTAMP = re.compile(rf"(?:{_WEEKDAY}\s*,?\s*{_DATE}(?:{_TIME})?|{_DATE}{_TIME}|\d{{4}}/\d{{1,2}}/\d{{1,2}})"
                        r"\s*[-–|/]?\s+(?=[A-ZËÇ])", re.I)


def _trim(text: str, a: int, b: int) -> tuple[int, int] | None:
    while a < b and text[a].isspace():
        a += 1
    stamp = _DATESTAMP.match(text, a, b)
    if stamp and re.search(r"\w{3}", text[stamp.end():b]):
        a = stamp.end()
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if re.search(r"\w", text[a:b]) else None


# ---------------------------------------------------------------- data

@dataclass
class Citation:
    n: int
    chunk_id: int
    document_id: str
    title: str
    page: int
    start: int
    end: int
    text: str
    quote: str
    url: str


@dataclass
class Answer:
    question: str
    lang: str
    answer: str
    abstained: bool
    citations: list[Citation]
    evidence: float
    backend: str = "offline"
    disagreement: list[dict] = field(default_factory=list)
    features: dict = field(default_factory=dict)  # what the abstention model saw (evidence.py)
    context: str = ""  # the earlier question a follow-up was read with
    # What the claim check made of an LLM's reply: "kept" whole, "trimmed" (sentences dropped),
    # "rejected" (nothing kept, or the call failed: the offline answer stands); None when none was asked.
    llm_check: str | None = None

    def public(self) -> dict:
        return {"answer": self.answer, "abstained": self.abstained, "lang": self.lang,
                "backend": self.backend, "evidence": round(self.evidence, 3),
                "disagreement": self.disagreement, "context": self.context, "llm_check": self.llm_check,
                "citations": [asdict(c) for c in self.citations]}


@dataclass
class Candidate:
    hit_rank: int
    document_id: str
    start: int  # in the document text
    end: int
    text: str
    tokens: frozenset[str]
    coverage: float = 0.0
    score: float = 0.0


def citation(n: int, hit, start: int, end: int, doc_text: str) -> Citation:
    chunk = hit.chunk
    return Citation(n=n, chunk_id=chunk.id, document_id=chunk.document_id, title=chunk.title, page=chunk.page,
                    start=start, end=end, text=chunk.text, quote=doc_text[start:end],
                    url=f"/documents/{chunk.document_id}?start={start}&end={end}#hl")


# ---------------------------------------------------------------- scoring

def candidates(hits, doc_texts: dict[str, str]) -> list[Candidate]:
    """The sentences of every hit (whole, even where the chunk cuts one), short ones joined
    with the next (a short list item stays apart from the next item), with document offsets. A lead-in ("… mund të jetë:") takes the list items
    after it, past footnotes that a page break put between them; when those items lie in
    another retrieved passage, that passage is the one the sentence cites."""
    out = []
    for rank, hit in enumerate(hits):
        c = hit.chunk
        doc = doc_texts[c.document_id]
        # split a window around the chunk so its first and last sentences are whole, and a
        # heading or lead-in that ends the chunk can take what follows it
        lo, hi = max(0, c.start - CONTEXT_CHARS), min(len(doc), c.end + 2 * CONTEXT_CHARS)
        spans = [(lo + a, lo + b) for a, b in split_sentences(doc[lo:hi]) if lo + b > c.start]
        i = 0
        while i < len(spans) and spans[i][0] < c.end:
            kept = [spans[i]]
            joined, lead_in = 0, False
            while i + 1 < len(spans):
                lead_in = lead_in or bool(_LEAD_IN.search(doc[slice(*kept[-1])]))
                following = doc[slice(*spans[i + 1])]
                if lead_in and _FOOTNOTE.match(following):
                    i += 1  # inside the quoted span, left out of the answer's words
                elif ((joined < MAX_JOINS and _incomplete(_joined(doc, kept))
                       and not (_LIST_ITEM.match(doc[slice(*kept[0])]) and _LIST_ITEM.match(following)))
                      or (lead_in and sum(b - a for a, b in kept) + len(following) <= MAX_SENTENCE_CHARS
                          and _LIST_ITEM.match(following))):
                    i, joined = i + 1, joined + 1
                    kept.append(spans[i])
                else:
                    break
            start, end, text = kept[0][0], kept[-1][1], _joined(doc, kept)
            owner = _owner(hits, rank, c.document_id, start, end)
            if not addressed_to_assistant(text):  # a planted instruction is never an answer
                out.append(Candidate(owner, c.document_id, start, end, text,
                                     frozenset(lexical_tokens(_ENUMERATOR.sub("", text, 1)))))
            i += 1
    return out


def _joined(doc: str, spans: list[tuple[int, int]]) -> str:
    return " ".join(doc[a:b] for a, b in spans)


def _owner(hits, rank: int, document_id: str, start: int, end: int) -> int:
    """The retrieved passage holding most of the span (its own unless it runs on into another)."""
    def overlap(r: int) -> int:
        c = hits[r].chunk
        return min(end, c.end) - max(start, c.start) if c.document_id == document_id else 0

    return max(range(len(hits)), key=lambda r: (overlap(r), r == rank))


_LEAD_IN = re.compile(r":\d{0,2}$")  # "… anëtarët e mëposhtëm:10" (a footnote mark may follow)
_LIST_ITEM = re.compile(r"[a-zA-Z0-9]{1,2}[.)]\s|[•·*\-–]\s?")
# A paragraph that opens with a bare number and a capital ("14 Strategjia …", "15 Shih …") is
# a footnote that the page layout put into the running text.
_FOOTNOTE = re.compile(r"\d{1,3}\s+(?:[A-ZËÇ]|https?:)")
# The label that numbers an item ("3. ", "b) ") is not a word of it: "3." must not match "nr. 3".
_ENUMERATOR = re.compile(r"^\s*(?:\d{1,2}|[a-zA-Z])[.)]\s+")


def _incomplete(sentence: str) -> bool:
    """Too short to stand alone, a heading ("Masa 16. Konsolidimi …") or a list's lead-in
    ("… anëtarët e mëposhtëm:"): the sentence that follows says what it introduces. A lead-in
    also takes the list items that follow it (see `candidates`)."""
    if len(lexical_tokens(sentence)) < MIN_SENTENCE_WORDS or _LEAD_IN.search(sentence):
        return True
    return not re.search(r"[.!?;]\W{0,2}\d{0,2}$", sentence) and len(sentence.split()) <= HEADING_WORDS


def query_terms(question: str, lang: str) -> list[str]:
    """Stems to look for. An English question's words stand for their glossary translations
    and for themselves (names, numbers, shared words); an English stem that no candidate holds
    lowers every candidate's coverage alike, so it does not change their order."""
    if lang != "en":
        return sorted(set(lexical_tokens(question)))
    return sorted(set().union(*english_word_stems(question), name_terms(question, lang)))


def focus_terms(question: str, lang: str, n: int = 2) -> list[frozenset[str]]:
    """The stems of the question's first content words: what it asks about ("Cila organizatë …")."""
    if lang == "en":
        return english_word_stems(question)[:n]
    return [frozenset({t}) for t in lexical_tokens(question)[:n]]


def name_terms(question: str, lang: str) -> list[str]:
    """Stems of the names a question mentions: capitalised words after the first (Fier,
    Elbasan, KVSP), minus English words the glossary translates ("Measure 12")."""
    found = []
    for w in re.findall(r"[^\W\d_][\w'’-]*", question)[1:]:
        if not w[0].isupper() or (lang == "en" and fold(w) in glossary_words()):
            continue
        found.extend(lexical_tokens(w))
    return found


def asked_held(question: str, best: Candidate | None) -> bool | None:
    """Whether the best sentence holds what the question word asks for (None: it asks for no kind)."""
    kind = sentences.asked(question)
    return None if kind is None else bool(best) and sentences.holds(kind, best.text)


def word_groups(question: str, lang: str) -> list[frozenset[str]]:
    """The question's content words, each as the stems that would show it in Albanian text."""
    if lang == "en":
        return english_word_stems(question)
    return [frozenset({t}) for t in dict.fromkeys(lexical_tokens(question))]


@lru_cache
def glossary_words() -> frozenset[str]:
    return frozenset(w for phrase_ in glossary() for w in phrase_.split())


def english_word_stems(question: str) -> list[frozenset[str]]:
    """For each content word of an English question, the stems that would show it in Albanian
    text: its translations (the glossary's, else the lexicon's: search/albanian.translations),
    or, for a word neither knows, its own stem (names, numbers and words both languages share:
    "model", "Elbasan"). A translated word's own stem would only find the documents' English
    fragments."""
    ws = words(question)
    skip = stop_words() | english_function_words()
    return [frozenset({stem(t) for t in found} or {stem(w)}) for w, found in zip(ws, translations(ws))
            if w not in skip and (len(w) > 1 or w.isdigit())]


def score(question: str, lang: str, hits, cands: list[Candidate], context: str = "") -> dict[str, float]:
    """Fill each candidate's coverage (`cover`) and score: the fitted sentence model's probability
    that it is the sentence that answers, over this question's candidates (sentence_evidence.py).
    Returns each query term's IDF weight."""
    weight = cover(question, lang, hits, cands, context)
    if cands:
        feats = sentences.features(question, lang, cands, hits, weight, focus_terms(question, lang), _incomplete)
        for c, p in zip(cands, sentences.probabilities(lang, feats)):
            c.score = p
    return weight


def cover(question: str, lang: str, hits, cands: list[Candidate], context: str = "") -> dict[str, float]:
    """Fill each candidate's coverage: the IDF-weighted share of query terms found in it, with
    partial credit for terms in its section path or elsewhere in its passage. `context`: the
    question a follow-up follows, whose terms name the subject at a lower weight. Returns each
    query term's IDF weight."""
    own = query_terms(question, lang)
    terms = sorted(set(own) | set(query_terms(context, lang) if context else ()))
    if not terms or not cands:
        return {t: 1.0 for t in terms}
    m = len(cands)
    df = {t: sum(t in c.tokens for c in cands) for t in terms}
    weight = {t: math.log(1 + m / (1 + df[t])) * (1.0 if t in own else CONTEXT_WEIGHT) for t in terms}
    total = sum(weight.values())
    chunk_tokens = {}
    for c in cands:
        chunk_tokens.setdefault(c.hit_rank, set()).update(c.tokens)
    section_tokens = {r: set(lexical_tokens(" ".join(h.chunk.section or []) + " " + (h.chunk.title or "")))
                      for r, h in enumerate(hits)}
    for c in cands:
        got = 0.0
        for t in terms:
            if t in c.tokens:
                got += weight[t]
            elif t in section_tokens[c.hit_rank]:
                got += SECTION_CREDIT * weight[t]
            elif t in chunk_tokens[c.hit_rank]:
                got += CHUNK_CREDIT * weight[t]
        c.coverage = got / total
    return weight


def select(cands: list[Candidate], compare: bool = False) -> list[Candidate]:
    """The best sentence and up to two more that score close to it, each from another passage
    and saying something else, all from the best sentence's document: sentences of different
    documents (another municipality's meeting) are not stitched into one answer. A comparison
    question takes the best sentence of each of the two best documents instead."""
    ranked = sorted(cands, key=lambda c: -c.score)
    if compare:
        sides = {}
        for c in ranked:
            sides.setdefault(c.document_id, c)
        return list(sides.values())[:2]
    chosen: list[Candidate] = []
    for c in ranked:
        if len(chosen) == MAX_SENTENCES or (chosen and c.score < KEEP_RATIO * chosen[0].score):
            break
        if chosen and c.document_id != chosen[0].document_id:
            continue
        if any(c.hit_rank == o.hit_rank or _similar(c, o) for o in chosen):
            continue
        chosen.append(c)
    return chosen


def is_follow_up(question: str) -> bool:
    """'Po kush e kryeson?', 'And who chairs it?': it opens with a word that continues the talk."""
    f = " ".join(words(question))
    return any(f == m or f.startswith(m + " ") for m in (fold(w) for w in _words()["continuation_markers"]))


def is_comparison(question: str) -> bool:
    markers = {fold(w) for w in _words()["comparison_markers"]}
    return any(w in markers for w in words(question))


def _similar(a: Candidate, b: Candidate) -> bool:
    union = a.tokens | b.tokens
    return bool(union) and len(a.tokens & b.tokens) / len(union) > 0.5


# ---------------------------------------------------------------- disagreement

def figures(text: str) -> dict[str, str]:
    """Figures a sentence states, keyed by what they measure: how often ('freq', as times a
    year: "çdo muaj" and "një herë në muaj" both give '12') and counts with a unit
    ('count:anetare' -> '9')."""
    w = _words()
    periods = {fold(k): YEARLY[v] for k, v in w["frequency_periods"].items()}
    numbers = {fold(k): v for k, v in w["number_words"].items()}
    units = {fold(u) for u in w["count_units"]}
    toks = re.findall(r"\d+(?:[.,]\d+)?|%|[^\W\d_]+", fold(text))
    found = {}
    for i, t in enumerate(toks):
        nxt = toks[i + 1 : i + 4]
        if t == "cdo" and nxt:  # "çdo muaj", "çdo 3 muaj"
            n = _number(nxt[0], numbers)
            period = periods.get(nxt[1] if n is not None and len(nxt) > 1 else nxt[0])
            if period:
                found.setdefault("freq", _fmt(period / (n or 1)))
        elif t == "here" and i > 0 and len(nxt) >= 2 and nxt[0] in ("ne", "per") and nxt[1] in periods:
            n = _number(toks[i - 1], numbers)  # "dy herë në vit"
            if n is not None:
                found.setdefault("freq", _fmt(n * periods[nxt[1]]))
        elif ((n := _number(t, numbers)) is not None and nxt and nxt[0] in units and t not in numbers
              and (i == 0 or toks[i - 1] != "cdo")):
            found.setdefault(f"count:{nxt[0][:5]}", _fmt(n))
    return found


YEARLY = {"day": 365, "week": 52, "month": 12, "quarter": 4, "half-year": 2, "year": 1}


def _fmt(x: float) -> str:
    return f"{x:g}"


def _number(token: str, numbers: dict[str, int]):
    if token in numbers:
        return numbers[token]
    if re.fullmatch(r"\d+(?:[.,]\d+)?", token):
        return float(token.replace(",", ".")) if re.search(r"[.,]", token) else int(token)
    return None


def disagreements(chosen: list[Candidate], cands: list[Candidate]) -> list[tuple[str, list[Candidate]]]:
    """Figures for the same measure that differ between documents: each document speaks through
    its best strong sentence that states the measure (figures within one document are usually
    different things: a table's rows, this year and last, SKN meetings beside council meetings)."""
    best = max((c.coverage for c in cands), default=0.0)
    if not chosen or best <= 0:
        return []
    # strong: holds the question's terms nearly as well as the best sentence, in a passage that
    # retrieval ranked among the first; the figures of such sentences are about the same thing
    strong = [c for c in sorted(cands, key=lambda c: -c.score)
              if c.coverage >= STRONG_COVERAGE * best and c.hit_rank < STRONG_RANK]
    said: dict[str, dict[str, Candidate]] = {}
    for c in strong:  # one voice per document: a document's own figures are different things
        for key in figures(c.text):
            said.setdefault(key, {}).setdefault(c.document_id, c)
    out = []
    for key, by_passage in said.items():
        by_value: dict[str, Candidate] = {}
        for c in by_passage.values():
            by_value.setdefault(figures(c.text)[key], c)
        if len(by_value) > 1:
            out.append((key, list(by_value.values())[:MAX_SENTENCES]))
    return out


# ---------------------------------------------------------------- the answer

def _with_marker(sentence: str, n: int) -> str:
    s = " ".join(sentence.split()).rstrip(" ;,:")
    return f"{s[:-1]} [{n}]." if s.endswith(".") else f"{s} [{n}]"


def compose(question: str, hits, doc_texts: dict[str, str], lang: str | None = None,
            unknown: list[str] = (), threshold: float | None = None, known: float | None = None,
            context: str = "", similarity: Callable[[str], float] | None = None) -> Answer:
    """Answer `question` from `hits` (best first) whose documents' stored texts are `doc_texts`.
    `unknown`: names in the question that no stored document mentions (see `unknown_names`);
    `known`: for an English question, the share of its words the documents know (`known_share`);
    `context`: the question a follow-up follows (see `score`); `similarity(text)`: the dense
    cosine of a text to the question (unmeasured without it). The answer abstains when the
    calibrated support probability (evidence.py) is below `threshold` (default: the fitted model's)."""
    lang = lang or question_lang(question)
    cands = candidates(hits, doc_texts)
    weight = score(question, lang, hits, cands, context)
    best = max(cands, key=lambda c: c.score, default=None)
    passage = set(lexical_tokens(hits[best.hit_rank].chunk.text)) | best.tokens if best else set()
    names = list(dict.fromkeys(name_terms(question, lang) + support.number_terms(question)))
    feats = support.features(best.coverage if best else 0.0, names, passage, list(unknown),
                             max((h.dense for h in hits if h.dense is not None), default=None), known, weight,
                             sentence_dense=similarity(best.text) if best and similarity else None,
                             word_groups=word_groups(question, lang), sentence_tokens=best.tokens if best else frozenset(),
                             asked_held=asked_held(question, best))
    evidence = support.probability(lang, feats) if best else 0.0
    if evidence < (support.threshold(lang) if threshold is None else threshold):
        answer = _abstain(question, lang, hits, cands, doc_texts, evidence)
        answer.features = feats
        return answer
    chosen = select(cands, compare=is_comparison(question))
    conflicts = disagreements(chosen, cands)
    if conflicts:  # every side of a disagreement is shown, then the best other sentences
        sides = [c for _, srcs in conflicts for c in srcs]
        rest = [c for c in chosen if all(c is not s for s in sides)]
        chosen = list({id(c): c for c in sides}.values())
        chosen += rest[: max(0, MAX_SENTENCES - len(chosen))]
    cites, lines, number = [], [], {}
    for c in chosen:
        number[id(c)] = len(cites) + 1
        hit = hits[c.hit_rank]
        cites.append(citation(number[id(c)], hit, c.start, c.end, doc_texts[hit.chunk.document_id]))
        lines.append(_with_marker(c.text, number[id(c)]))
    notes = [{"measure": key, "values": [{"value": figures(s.text)[key], "n": number[id(s)]} for s in srcs]}
             for key, srcs in conflicts]
    head = phrase(lang, "disagree") if conflicts else phrase(lang, "lead_in")
    text = "\n".join(([head] if head else []) + lines)
    return Answer(question, lang, text, False, cites, evidence, disagreement=notes, features=feats)


def _abstain(question, lang, hits, cands, doc_texts, evidence) -> Answer:
    """The plain "not in the documents" with each of the nearest passages' best sentence."""
    cites = []
    for rank, hit in enumerate(hits[:SEE_ALSO]):
        own = [c for c in cands if c.hit_rank == rank]
        if not own:
            continue
        best = max(own, key=lambda c: c.score)
        cites.append(citation(len(cites) + 1, hit, best.start, best.end, doc_texts[hit.chunk.document_id]))
    return Answer(question, lang, phrase(lang, "abstain"), True, cites, evidence)


# ---------------------------------------------------------------- the path of a question

def hit_documents(store, hits) -> dict:
    """The stored documents behind the hits, each read once."""
    docs = {}
    for hit in hits:
        if hit.chunk.document_id not in docs:
            docs[hit.chunk.document_id] = store.get_document(hit.chunk.document_id)
    return docs


def document_texts(store, hits, docs: dict | None = None) -> dict[str, str]:
    docs = hit_documents(store, hits) if docs is None else docs
    return {doc_id: doc.text if doc else "" for doc_id, doc in docs.items()}


def unknown_names(store, question: str, lang: str) -> list[str]:
    """Names the question mentions that no stored passage contains: a question about a place
    or body the documents never mention is not answered from passages about others."""
    return [t for t in name_terms(question, lang) if not store.lexical_search([t], 1)]


def known_share(store, question: str) -> float:
    """Share of an English question's content words that some stored passage holds (through
    the glossary or as themselves): a question about the weather or football holds none."""
    groups = english_word_stems(question)
    found: dict[str, bool] = {}
    for group in groups:
        for s in group:
            if s not in found:
                found[s] = bool(store.lexical_search([s], 1))
    return sum(any(found[s] for s in group) for group in groups) / len(groups) if groups else 0.0
