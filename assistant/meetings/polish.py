"""Optional LLM polishing of the procesverbal draft: wording only, sentence by sentence.

The offline draft's sentences go to the configured LLM (prompts/minutes_polish.j2, sentences as JSON
data, never instructions). A polished sentence replaces the offline one only when it stays the same
sentence with the same facts: it adds no name, number or date that neither the notes nor the offline
sentence hold, drops none of the offline sentence's, keeps its list number, and keeps at least half of
its content words. Every sentence records the backend that wrote it ("offline" | "llm:<model>") and
keeps its note sources; on timeout, error or an unusable reply the offline draft stands and says so.
"""
import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.search.albanian import fold, lexical_tokens, stop_words
from assistant.meetings.dates import MONTHS, NUMBER_WORDS, WEEKDAYS
from assistant.meetings.gazetteer import find_bodies
from assistant.llm.client import chat, prompts
from assistant.core.settings import Settings
from ingest.albanian.ocr_repair import wordlist

log = logging.getLogger(__name__)
MIN_KEPT = 0.5  # share of the offline sentence's content words a polished sentence must keep
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_NUMBER = re.compile(r"\d+")
_LEAD = re.compile(r"^(?:\d+\.|[–—-])\s")  # a list entry's number or dash
# A capital after these starts a sentence or a label's value; after an initial ('N. Hasaj') it is a name.
_OPENS = re.compile(r"(?:^|[.!?:;–—(„“\"]\s*|^\d+\.\s+)$")
_INITIAL = re.compile(r"(?:^|\s)(?:[A-ZÇË][a-zçë]?|Z|Znj|Dr|Prof)\.\s*$")
_NAME_NEXT = re.compile(r"\s*:(?!\d)|\s+(?:[A-ZÇË]\.|[A-ZÇË][a-zçë])")
_DATE_SUFFIXES = ("", "i", "it", "in", "ut", "n", "s", "ne", "es", "en")
_ARTICLE_ONE = "nje"  # 'një' is also the indefinite article: it is not counted as a number


@dataclass
class Facts:
    """What a text states that polishing must not invent or lose."""
    numbers: set[int]      # digits, and number words by value
    number_words: set[str]
    dates: set[str]        # month and weekday names, by their root


def polish_messages(sentences: list[dict]) -> list[dict]:
    """System and user messages of prompts/minutes_polish.j2; `sentences` are {"n", "text"}."""
    module = prompts().get_template("minutes_polish.j2").make_module(
        {"sentences": "\n".join(json.dumps(s, ensure_ascii=False) for s in sentences)})
    return [{"role": "system", "content": str(module.system()).strip()},
            {"role": "user", "content": str(module.user()).strip()}]


def parse_reply(reply: str) -> dict[int, str] | None:
    """{n: polished text} from the model's JSON (code fences and chatter around it tolerated), else None."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        data = json.loads(reply[start : end + 1])
    except ValueError:
        return None
    items = data.get("sentences") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    out = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("n"), int) and isinstance(item.get("text"), str):
            out[item["n"]] = " ".join(item["text"].split())
    return out


@lru_cache(maxsize=4096)
def _date_root(word: str) -> str | None:
    for root in MONTHS + WEEKDAYS:
        if word.startswith(root) and word[len(root):] in _DATE_SUFFIXES:
            return root
    return None


def facts(text: str) -> Facts:
    folded_words = [fold(m.group(0)) for m in _WORD.finditer(text)]
    numbers = {int(n) for n in _NUMBER.findall(text)}
    number_words = {w for w in folded_words if w in NUMBER_WORDS and w != _ARTICLE_ONE}
    numbers |= {NUMBER_WORDS[w] for w in number_words}
    dates = {root for w in folded_words if (root := _date_root(w))}
    return Facts(numbers, number_words, dates)


def _names(text: str) -> list[str]:
    """Capitalised words of a sentence that name someone or something. An initial ('N.'), a speaker
    ('Hasaj:') and a word before another capitalised one always do; a capital that opens a sentence or a
    label's value counts only when the word is not a common Albanian word (the word lists hold some
    names too: a known limit)."""
    common = wordlist()
    names = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        if not word[0].isupper() or _date_root(fold(word)):
            continue
        surely = (len(word) <= 2 and text[m.end() : m.end() + 1] == ".") or _NAME_NEXT.match(text, m.end())
        before = text[: m.start()]
        opens = _OPENS.search(before) and not _INITIAL.search(before)
        if not surely and opens and (word.lower() in common or fold(word) in stop_words()):
            continue
        names.append(fold(word))
    return names


def _same_word(a: str, b: str) -> bool:
    """Equal, or forms of one word: an ending added or a final vowel changed ('hasaj'/'hasajt',
    'bashkia'/'bashkise'); 'hasaj'/'hasani' are different names."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    p = next((i for i, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    rest = short[p:]
    return p >= 3 and len(short) >= 4 and len(long) - p <= 3 and (rest == "" or rest in "aeiouy")


def _known(word: str, vocabulary: set[str]) -> bool:
    return word in vocabulary or any(_same_word(word, v) for v in vocabulary if v[:3] == word[:3])


def _folded_words(text: str) -> set[str]:
    return {fold(m.group(0)) for m in _WORD.finditer(text)}


def allowed_vocabulary(notes: str) -> set[str]:
    """Folded words the notes hold, with the written-out names of the council bodies they mention."""
    vocabulary = _folded_words(notes)
    for _, _, body in find_bodies(notes):
        vocabulary |= _folded_words(body.full)
    return vocabulary


def check(polished: str, original: str, notes_facts: Facts, vocabulary: set[str]) -> str | None:
    """Why a polished sentence may not replace `original`, or None when it may."""
    new, old = facts(polished), facts(original)
    new_words, old_words = _folded_words(polished), _folded_words(original)
    added = sorted(new.numbers - notes_facts.numbers - old.numbers)
    added += sorted(w for w in new.number_words - vocabulary - old_words
                    if NUMBER_WORDS[w] not in notes_facts.numbers | old.numbers)
    if added:
        return f"adds the number {added[0]}"
    if dates := sorted(new.dates - notes_facts.dates - old.dates):
        return f"adds the date {dates[0]!r}"
    if names := [n for n in _names(polished) if not _known(n, vocabulary | old_words)]:
        return f"adds the name {names[0]!r}"
    # 'një' may write out a 1; it is not counted when added, as it is also the indefinite article
    if lost := sorted(old.numbers - new.numbers - ({1} if _ARTICLE_ONE in new_words else set())):
        return f"drops the number {lost[0]}"
    if dates := sorted(old.dates - new.dates):
        return f"drops the date {dates[0]!r}"
    if names := [n for n in _names(original) if not _known(n, new_words)]:
        return f"drops the name {names[0]!r}"
    lead = _LEAD.match(original)
    if lead and not polished.startswith(lead.group(0)):
        return "changes the list number"
    kept = set(lexical_tokens(original))
    if kept and len(kept & set(lexical_tokens(polished))) / len(kept) < MIN_KEPT:
        return "is not a rewording of the sentence"
    return None


def polish_draft(settings: Settings, notes: str, draft: dict) -> dict:
    """The draft with each sentence's backend recorded, polished by the LLM where `settings.llm_url` is set.
    Adds "backend" ("offline" or "llm:<model>" when any sentence is the LLM's) and "polish" (what happened)."""
    sentences = [{**s, "backend": "offline"} for s in draft["sentences"]]
    result = {**draft, "sentences": sentences, "backend": "offline"}
    if not settings.llm_url or not sentences:
        result["polish"] = {"status": "off"}
        return result
    reply = chat(settings, polish_messages([{"n": i + 1, "text": s["text"]} for i, s in enumerate(sentences)]))
    if reply is None:
        result["polish"] = {"status": "failed", "message": "The LLM did not answer (timeout or error); "
                                                           "this is the offline draft."}
        return result
    polished = parse_reply(reply)
    if polished is None:
        result["polish"] = {"status": "unusable", "message": "The LLM's reply was not the expected JSON; "
                                                             "this is the offline draft."}
        return result
    notes_facts, vocabulary = facts(notes), allowed_vocabulary(notes)
    backend, accepted, rejected = f"llm:{settings.llm_model}", 0, 0
    for i, s in enumerate(sentences):
        text = polished.get(i + 1)
        if not text or text == s["text"]:
            continue
        reason = check(text, s["text"], notes_facts, vocabulary)
        if reason:
            rejected += 1
            s["rejected"] = {"text": text, "reason": reason}
            log.info("kept the offline sentence, the polished one %s: %s", reason, text[:120])
        else:
            accepted += 1
            s.update({"original": s["text"], "text": text, "backend": backend})
    result.update(_reflow(draft["text"], sentences))
    result["backend"] = backend if accepted else "offline"
    result["polish"] = {"status": "ok", "model": settings.llm_model, "accepted": accepted, "rejected": rejected}
    return result


def _reflow(text: str, sentences: list[dict]) -> dict:
    """The draft text with each sentence's new wording, and every sentence's span moved to match."""
    out, pos = [], 0
    for s in sorted(sentences, key=lambda s: s["start"]):
        out.append(text[pos : s["start"]])
        start = sum(map(len, out))
        out.append(s["text"])
        pos = s["end"]
        s["start"], s["end"] = start, start + len(s["text"])
    out.append(text[pos:])
    return {"text": "".join(out), "sentences": sentences}
