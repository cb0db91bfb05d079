"""Answers written by the configured LLM: prompted with numbered passages (data, never
instructions); only reply sentences whose citations exist and share content words with the
cited passages are kept; the quote of each citation is then the passage sentence that
supports the reply sentence best, so every span still points into a stored document.
"""
import logging
import re

from assistant.answers.compose import Answer, citation, phrase, query_terms, question_lang, split_sentences
from assistant.core.settings import Settings
from assistant.llm.client import chat, prompts
from assistant.search.albanian import lexical_tokens

log = logging.getLogger(__name__)
MAX_PASSAGES = 6
MIN_SHARED = 0.5  # share of a reply sentence's content words that its cited passages must hold
_MARKER = re.compile(r"\[(\d{1,2})\]")
# Text that could close or fake the passage fence inside a document is neutralised.
_FENCE = re.compile(r"<{2,}|>{2,}|</?passage[^>]*>", re.I)


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


def supported(sentence: str, passages: dict[int, str]) -> list[int] | None:
    """The cited passage numbers when every one exists and together they hold at least half of
    the sentence's content words (of an English sentence: its glossary terms, names, numbers)."""
    ns = [int(n) for n in _MARKER.findall(sentence)]
    if not ns or any(n not in passages for n in ns):
        return None
    text = _MARKER.sub(" ", sentence)
    lang = question_lang(text)
    # English words cannot match Albanian passages: English sentences count glossary terms, names, numbers
    words = set(query_terms(text, lang))
    held = set().union(*(lexical_tokens(passages[n]) for n in ns))
    if not words:
        return None
    return sorted(set(ns)) if len(words & held) / len(words) >= MIN_SHARED or len(words & held) >= 4 else None


def validate(reply: str, passages: dict[int, str]) -> list[tuple[str, list[int]]]:
    """Reply sentences that pass `supported`, with their citations; the rest are dropped."""
    kept = []
    for sentence in reply_sentences(reply):
        ns = supported(sentence, passages)
        if ns:
            kept.append((re.sub(r"\s+([.!?;,])", r"\1", _MARKER.sub("", sentence)).strip(), ns))
        else:
            log.info("dropped an unsupported LLM sentence: %s", sentence[:120])
    return kept


def llm_answer(settings: Settings, question: str, lang: str, hits, doc_texts: dict[str, str]) -> Answer | None:
    """An answer written by the configured LLM from the top passages, validated; None when the
    call fails or no sentence survives validation (the offline answer stands)."""
    top = hits[:MAX_PASSAGES]
    if not top:
        return None
    passages = [{"n": i + 1, "title": h.chunk.title, "page": h.chunk.page, "text": h.chunk.text}
                for i, h in enumerate(top)]
    reply = chat(settings, answer_messages(question, lang, passages))
    if reply is None:
        return None
    kept = validate(reply, {p["n"]: p["text"] for p in passages})
    if not kept:
        return None
    cites, lines, numbering = [], [], {}
    for sentence, ns in kept:
        marks = []
        for n in ns:
            hit = top[n - 1]
            start, end = _best_span(sentence, hit, doc_texts[hit.chunk.document_id])
            key = (n, start)
            if key not in numbering:
                numbering[key] = len(cites) + 1
                cites.append(citation(numbering[key], hit, start, end, doc_texts[hit.chunk.document_id]))
            marks.append(f"[{numbering[key]}]")
        body = sentence.rstrip(" .")
        lines.append(f"{body} {''.join(marks)}.")
    return Answer(question, lang, " ".join(lines), False, cites, evidence=1.0, backend=f"llm:{settings.llm_model}")


def _best_span(sentence: str, hit, doc_text: str) -> tuple[int, int]:
    """The span of the passage sentence sharing most content words with `sentence`."""
    c = hit.chunk
    words = set(lexical_tokens(sentence, expand_glossary=True))
    spans = [(c.start + a, c.start + b) for a, b in split_sentences(doc_text[c.start : c.end])]
    if not spans:
        return c.start, c.end
    return max(spans, key=lambda s: len(words & set(lexical_tokens(doc_text[s[0] : s[1]]))))
