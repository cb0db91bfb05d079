"""The answer job: retrieve, compose (the LLM when configured and its reply validates, else
offline), and store the answer as an artifact."""
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone

import numpy as np

from assistant.answers.compose import (DEFAULT_K, Answer, compose, document_texts, hit_documents, is_follow_up,
                                       known_share, question_lang, unknown_names)
from assistant.answers.llm_writer import llm_answer


def offline_answer(services, question: str, k: int = DEFAULT_K, threshold: float | None = None,
                   history: tuple[str, ...] = ()):
    """Retrieve and compose the grounded offline answer. Returns (answer, hits, documents, texts).
    `threshold` overrides the abstention model's (the calibration script reads every feature).
    `history`: the conversation's earlier questions; a follow-up ('Po kush e kryeson?') is read with
    the question before it, and so is a question the documents cannot answer on its own."""
    lang = question_lang(question)
    previous = history[-1].strip() if history else ""
    contexts = [previous, ""] if previous and is_follow_up(question) else ["", previous] if previous else [""]
    unknown = unknown_names(services.store, question, lang)  # of the question alone: once for every reading
    known = known_share(services.store, question) if lang == "en" else None
    tried = []
    for context in contexts:
        query = f"{question} {context}".strip()
        hits = services.retriever.search(query, k=k, english=lang == "en")
        docs = hit_documents(services.store, hits)
        doc_texts = document_texts(services.store, hits, docs)
        answer = compose(question, hits, doc_texts, lang, unknown, threshold=threshold, known=known, context=context,
                         similarity=similarity_to(services, query))
        answer.context = context
        tried.append((answer, hits, docs, doc_texts))
        if not answer.abstained:
            return tried[-1]
    return tried[0]  # nothing answers: the abstention of the first reading


def similarity_to(services, query: str):
    """text -> its dense cosine to `query` (whose vector the retriever keeps from the search)."""
    def similarity(text: str) -> float:
        passage = np.asarray(services.embedder.embed_passages([text]), dtype=np.float32)[0]
        return float(services.retriever.query_vector(query) @ passage)
    return similarity


def ask(services, question: str, k: int = DEFAULT_K, producer: str = "api",
        history: tuple[str, ...] = (), on_token: Callable[[str], None] | None = None) -> tuple[Answer, str]:
    """Retrieve, answer (the LLM when configured and its reply validates, else offline), and
    store the answer as an artifact. Returns the answer and the artifact id. `on_token` receives
    the LLM's reply as it streams, unchecked; the returned answer is what the check kept."""
    result, hits, docs, doc_texts = offline_answer(services, question, k, history=history)
    if services.settings.llm_url and not result.abstained:  # no model is asked what the documents do not support
        written = llm_answer(services.settings, question, result.lang, hits, doc_texts, on_token=on_token)
        if written:
            written.evidence, written.context = result.evidence, result.context
            result = written
        else:
            result.llm_check = "rejected"
    # the content hash and version pin each citation to the exact text it was made from
    versions = {doc_id: {"sha256": doc.sha256, "version": doc.version} if doc else {} for doc_id, doc in docs.items()}
    artifact_id = services.store.save_artifact("answer", {
        "question": question, "history": list(history), "context": result.context, "backend": result.backend,
        "lang": result.lang, "abstained": result.abstained,
        "evidence": round(result.evidence, 4), "evidence_features": result.features,
        "retrieved": [{"chunk_id": h.chunk.id, "document_id": h.chunk.document_id, "score": h.score,
                       "lexical": h.lexical, "dense": h.dense} for h in hits],
        "citations": [{**asdict(c), **versions.get(c.document_id, {})} for c in result.citations], "answer": result.answer,
        "disagreement": result.disagreement, "llm_check": result.llm_check,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "producer": producer})
    return result, artifact_id
