"""Question-set evaluation, scored exactly as shared/eval/run_qa.py scores it.

A question set is JSONL, one object per line:
    {"id": "q1", "question": "…", "question_en": "…", "answerable": true,
     "gold": [{"document": "file name (informative)", "quote": "words the answer must cite"}]}
A gold quote is found in a text when, after folding (lower case, ë/é→e, ç/¢→c, q→g, punctuation
dropped), it is a substring, or at least 70 % of its word bigrams occur in the text.
"""
import json
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_SUBST = str.maketrans({"é": "e", "ë": "e", "ç": "c", "¢": "c", "q": "g", "’": "'", "“": '"', "”": '"'})


def fold_for_match(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_SUBST))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def quote_matches(gold: str, text: str, threshold: float = 0.7) -> bool:
    g, t = fold_for_match(gold), fold_for_match(text)
    if not g:
        return False
    if g in t:
        return True
    gold_words, text_words = g.split(), t.split()
    gold_bigrams = set(zip(gold_words, gold_words[1:]))
    if not gold_bigrams:
        return False
    return len(gold_bigrams & set(zip(text_words, text_words[1:]))) / len(gold_bigrams) >= threshold


def any_quote(golds: list[str], text: str) -> bool:
    return any(quote_matches(g, text) for g in golds)


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class QaRun:
    rows: list[dict] = field(default_factory=list)
    search_ms: list[float] = field(default_factory=list)
    ask_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


Search = Callable[[str, int], list[dict]]  # question, k -> results with "text"
Ask = Callable[[str], dict]  # question -> {"abstained", "citations": [{"text", "quote"}]}


def run_qa(items: list[dict], search: Search, ask: Ask | None, k: int = 5, langs=("sq", "en")) -> QaRun:
    run = QaRun()
    for item in items:
        golds = [g["quote"] for g in item["gold"]]
        for lang in langs:
            question = item["question"] if lang == "sq" else item["question_en"]
            row = {"id": item["id"], "lang": lang, "answerable": item["answerable"]}
            t0 = time.perf_counter()
            try:
                texts = [r.get("text", "") for r in search(question, k)][:k]
                run.search_ms.append((time.perf_counter() - t0) * 1000)
            except Exception as exc:  # an error counts as a miss, as in the shared harness
                run.errors.append(f"{item['id']}/{lang} search: {exc}")
                texts = []
            row["rank"] = next((i + 1 for i, t in enumerate(texts) if golds and any_quote(golds, t)), None)
            answer: dict = {}
            if ask is not None:
                t0 = time.perf_counter()
                try:
                    answer = ask(question)
                    run.ask_ms.append((time.perf_counter() - t0) * 1000)
                except Exception as exc:
                    run.errors.append(f"{item['id']}/{lang} ask: {exc}")
                    answer = {"error": True}
            citations = answer.get("citations", []) or []
            row["abstained"] = bool(answer.get("abstained"))
            row["cited"] = bool(golds) and not row["abstained"] and any(
                any_quote(golds, c.get("text", "")) for c in citations)
            row["quote_precise"] = row["cited"] and any(any_quote(golds, c.get("quote", "")) for c in citations)
            run.rows.append(row)
    return run


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def summarize(run: QaRun, k: int = 5, langs=("sq", "en")) -> dict:
    def frac(rows, pred):
        return round(sum(1 for r in rows if pred(r)) / len(rows), 3) if rows else None

    summary: dict = {}
    for lang in langs:
        answerable = [r for r in run.rows if r["lang"] == lang and r["answerable"]]
        unanswerable = [r for r in run.rows if r["lang"] == lang and not r["answerable"]]
        summary[lang] = {
            "n_answerable": len(answerable),
            "hit@1": frac(answerable, lambda r: r["rank"] == 1),
            f"hit@{k}": frac(answerable, lambda r: r["rank"] is not None),
            "mrr": round(sum(1 / r["rank"] for r in answerable if r["rank"]) / len(answerable), 3)
            if answerable else None,
            "answer_cites_gold": frac(answerable, lambda r: r["cited"]),
            "quote_is_gold": frac(answerable, lambda r: r["quote_precise"]),
            "false_abstain": frac(answerable, lambda r: r["abstained"]),
            "n_unanswerable": len(unanswerable),
            "correct_abstain": frac(unanswerable, lambda r: r["abstained"]),
        }
    summary["latency_ms"] = {"search_p50": _pct(run.search_ms, 0.5), "search_p95": _pct(run.search_ms, 0.95),
                             "ask_p50": _pct(run.ask_ms, 0.5), "ask_p95": _pct(run.ask_ms, 0.95)}
    summary["errors"] = len(run.errors)
    return summary


def http_callables(base: str, token: str | None = None, timeout: float = 60) -> tuple[Search, Ask]:
    """search/ask over a running server's HTTP API (the same calls run_qa.py makes)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(base_url=base.rstrip("/"), headers=headers, timeout=timeout)

    def search(q: str, k: int) -> list[dict]:
        response = client.get("/api/search", params={"q": q, "k": k})
        response.raise_for_status()
        return response.json().get("results", [])

    def ask(q: str) -> dict:
        response = client.post("/api/ask", json={"question": q})
        response.raise_for_status()
        return response.json()

    return search, ask
