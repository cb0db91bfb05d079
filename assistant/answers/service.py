"""The answer job: retrieve, compose (the LLM when configured and its reply validates, else
offline), and store the answer as an artifact."""
from dataclasses import asdict
from datetime import datetime, timezone

from assistant.answers.compose import (DEFAULT_K, Answer, compose, document_texts, hit_documents, known_share,
                                       question_lang, unknown_names)
from assistant.answers.llm_writer import llm_answer


def offline_answer(services, question: str, k: int = DEFAULT_K, threshold: float | None = None):
    """Retrieve and compose the grounded offline answer. Returns (answer, hits, documents, texts).
    `threshold` overrides the abstention model's (the calibration script reads every feature)."""
    lang = question_lang(question)
    hits = services.retriever.search(question, k=k, english=lang == "en")
    docs = hit_documents(services.store, hits)
    doc_texts = document_texts(services.store, hits, docs)
    unknown = unknown_names(services.store, question, lang)
    known = known_share(services.store, question) if lang == "en" else None
    answer = compose(question, hits, doc_texts, lang, unknown, threshold=threshold, known=known)
    return answer, hits, docs, doc_texts


def ask(services, question: str, k: int = DEFAULT_K, producer: str = "api") -> tuple[Answer, str]:
    """Retrieve, answer (the LLM when configured and its reply validates, else offline), and
    store the answer as an artifact. Returns the answer and the artifact id."""
    result, hits, docs, doc_texts = offline_answer(services, question, k)
    if services.settings.llm_url and not result.abstained:  # no model is asked what the documents do not support
        written = llm_answer(services.settings, question, result.lang, hits, doc_texts)
        if written:
            written.evidence = result.evidence
            result = written
    # the content hash and version pin each citation to the exact text it was made from
    versions = {doc_id: {"sha256": doc.sha256, "version": doc.version} if doc else {} for doc_id, doc in docs.items()}
    artifact_id = services.store.save_artifact("answer", {
        "question": question, "backend": result.backend, "lang": result.lang, "abstained": result.abstained,
        "evidence": round(result.evidence, 4), "evidence_features": result.features,
        "retrieved": [{"chunk_id": h.chunk.id, "document_id": h.chunk.document_id, "score": h.score,
                       "lexical": h.lexical, "dense": h.dense} for h in hits],
        "citations": [{**asdict(c), **versions.get(c.document_id, {})} for c in result.citations], "answer": result.answer,
        "disagreement": result.disagreement,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "producer": producer})
    return result, artifact_id
