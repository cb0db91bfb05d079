"""Answers written by the configured LLM: prompted with numbered passages (data, never
instructions). A reply sentence is kept only when its citations exist, the cited passages share
its content words, and one span of each (a sentence or two, never an instruction planted in the
document) holds every name, number, date and time it states without contradicting it (claims.py);
that span is the citation's quote, so every quote points into a stored document and says what
the sentence says.
"""
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.answers.claims import Claims, conflicts, read_claims
from assistant.answers.compose import Answer, citation, phrase, query_terms, question_lang, split_sentences
from assistant.answers.injection import addressed_to_assistant
from assistant.core.settings import Settings
from assistant.llm.client import chat, prompts
from assistant.search.albanian import lexical_tokens

log = logging.getLogger(__name__)
MAX_PASSAGES = 6
MIN_SHARED = 0.5  # share of a reply sentence's content words that its cited passages must hold
_MARKER = re.compile(r"\[(\d{1,2})\]")
# Text that could close or fake the passage fence inside a document is neutralised.
_FENCE = re.compile(r"<{2,}|>{2,}|</?passage[^>]*>", re.I)
SPAN_SENTENCES = 4  # a claim may draw on this many consecutive sentences (or heading lines) of its passage


@dataclass(frozen=True)
class Kept:
    sentence: str  # without its markers
    spans: dict[int, tuple[int, int]]  # cited passage number -> the supporting span, in the passage text


def answer_messages(question: str, lang: str, passages: list[dict]) -> list[dict]:
    """System and user messages of prompts/answer.j2; passages are {"n", "title", "page", "text"}."""
    module = prompts().get_template("answer.j2").make_module(
        {"question": question, "lang": lang, "abstain": phrase(lang, "abstain"),
         "passages": [{**p, "text": _FENCE.sub(" ", p["text"])} for p in passages]})
    return [{"role": "system", "content": str(module.system()).strip()},
            {"role": "user", "content": str(module.user()).strip()}]


def reply_sentences(reply: str) -> list[str]:
    """The reply cut into sentences, each keeping the [n] markers that follow it."""
    text = " ".join(reply.split())
    text = re.sub(r"([.!?])\s*((?:\[\d{1,2}\]\s*)+)", r" \2\1 ", text)  # "…end. [1]" -> "…end [1]."
    return [text[a:b].strip() for a, b in split_sentences(text)]


def supported(sentence: str, passages: dict[int, str]) -> dict[int, tuple[int, int]] | None:
    """For each cited passage the span that supports `sentence`, or None when a citation does not
    exist, the sentence gives an order, the cited passages hold under half its content words (of an
    English sentence: its glossary terms, names, numbers), or no spans hold its claims."""
    ns = sorted({int(n) for n in _MARKER.findall(sentence)})
    if not ns or any(n not in passages for n in ns):
        return None
    text = _MARKER.sub(" ", sentence)
    words = set(query_terms(text, question_lang(text)))
    if not words or addressed_to_assistant(text):
        return None
    sentences = {n: _content_sentences(passages[n]) for n in ns}
    held = set().union(*(lexical_tokens(passages[n][a:b]) for n in ns for a, b in sentences[n]))
    if len(words & held) / len(words) < MIN_SHARED and len(words & held) < 4:
        return None
    claims = read_claims(text)
    spans = {n: _best_span(claims, words, passages[n], sentences[n]) for n in ns}
    if None in spans.values():
        return None
    problems = conflicts(claims, " ".join(passages[n][a:b] for n, (a, b) in spans.items()))
    if problems:
        log.info("claims of an LLM sentence not in its citations (%s): %s", "; ".join(problems), text[:120])
        return None
    return spans


def _content_sentences(passage: str) -> list[tuple[int, int]]:
    """The passage's sentences, less those addressed to the assistant: they support nothing."""
    return [(a, b) for a, b in split_sentences(passage) if not addressed_to_assistant(passage[a:b])]


def _best_span(claims: Claims, words: set[str], passage: str, sentences: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The run of up to SPAN_SENTENCES consecutive sentences that leaves fewest claims unheld, then
    shares most content words, then is shortest."""
    runs = [(sentences[i][0], sentences[j][1]) for i in range(len(sentences))
            for j in range(i, min(i + SPAN_SENTENCES, len(sentences)))
            if all(passage[sentences[k][1]:sentences[k + 1][0]].strip() == "" for k in range(i, j))]
    if not runs:
        return None
    return min(runs, key=lambda r: (len(conflicts(claims, passage[r[0]:r[1]])),
                                    -len(words & set(lexical_tokens(passage[r[0]:r[1]]))), r[1] - r[0]))


def validate(reply: str, passages: dict[int, str]) -> list[Kept]:
    """Reply sentences that pass `supported`, with their supporting spans; the rest are dropped."""
    kept = []
    for sentence in reply_sentences(reply):
        spans = supported(sentence, passages)
        if spans:
            kept.append(Kept(re.sub(r"\s+([.!?;,])", r"\1", _MARKER.sub("", sentence)).strip(), spans))
        else:
            log.info("dropped an unsupported LLM sentence: %s", sentence[:120])
    return kept


def llm_answer(settings: Settings, question: str, lang: str, hits, doc_texts: dict[str, str],
               on_token: Callable[[str], None] | None = None) -> Answer | None:
    """An answer written by the configured LLM from the top passages, validated; None when the
    call fails or no sentence survives validation (the offline answer stands). `on_token` sees
    the reply as it is written, before any check: the caller shows it as a draft only."""
    top = hits[:MAX_PASSAGES]
    if not top:
        return None
    passages = [{"n": i + 1, "title": h.chunk.title, "page": h.chunk.page, "text": h.chunk.text}
                for i, h in enumerate(top)]
    reply = chat(settings, answer_messages(question, lang, passages), on_token=on_token)
    if reply is None:
        return None
    kept = validate(reply, {p["n"]: p["text"] for p in passages})
    if not kept:
        return None
    check = "kept" if len(kept) == len(reply_sentences(reply)) else "trimmed"
    cites, lines, numbering = [], [], {}
    for k in kept:
        marks = []
        for n, (a, b) in k.spans.items():
            hit = top[n - 1]
            start, end = hit.chunk.start + a, hit.chunk.start + b  # a chunk is an exact span of its document
            key = (n, start, end)
            if key not in numbering:
                numbering[key] = len(cites) + 1
                cites.append(citation(numbering[key], hit, start, end, doc_texts[hit.chunk.document_id]))
            marks.append(f"[{numbering[key]}]")
        body = k.sentence.rstrip(" .")
        lines.append(f"{body} {''.join(marks)}.")
    return Answer(question, lang, " ".join(lines), False, cites, evidence=1.0, backend=f"llm:{settings.llm_model}",
                  llm_check=check)

