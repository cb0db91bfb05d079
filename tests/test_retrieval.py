"""Albanian normalisation and hybrid retrieval over the ingested bundled corpus."""
from assistant.search.albanian import fold, lexical_tokens, normalisation_version
from assistant.evaluation.qa import any_quote, load_questions, run_qa, summarize
from assistant.search.retrieve import fuse_linear, fuse_rrf
from tests.conftest import FIXTURES


def test_folding_treats_ocr_variants_as_the_letters_they_stand_for():
    assert fold("Sigurisë ¢ështje té") == fold("Siguríse çështje te") == "sigurise ceshtje te"


def test_inflected_forms_share_a_token_and_stop_words_go():
    assert lexical_tokens("ligji")[0] == lexical_tokens("ligj")[0]
    assert len(set(lexical_tokens("siguria sigurisë sigurinë siguri"))) == 1
    assert lexical_tokens("Çfarë është në të?") == []
    assert "108" in lexical_tokens("Ligji nr. 108/2014")


def test_the_lemma_reading_joins_forms_no_ending_rule_joins():
    """The reading bench/retrieval.py measures against the stemmer: the analyser's lemma joins
    irregular forms (mbajti/mban, mblidhet/mblidhen/mbledh) and reads a form typed without ë as its word."""
    from assistant.search.albanian import lemma_stem, lemma_term, stem

    assert lemma_term("mbajti") == lemma_term("mban") == "mbaj" and stem("mbajti") != stem("mban")
    assert lemma_term("mblidhet") == lemma_term("mblidhen") == lemma_term("mbledh") == "mbledh"
    assert lemma_term("pike") == "pike" and lemma_term("ligj") == "ligj"  # pikë, not a form of pi
    assert lemma_stem("Rudari".lower()) == stem("rudari")  # a name the tables do not know: its stem


def test_english_terms_add_albanian_words_to_a_query():
    tokens = lexical_tokens("How often does the council meet?", expand_glossary=True)
    assert set(lexical_tokens("këshill mbledhja")) <= set(tokens)


def test_fusion_keeps_a_strong_lexical_match_that_dense_search_missed():
    lexical = {1: 10.0, 2: 2.0, 3: 1.0}
    dense = {1: 0.80, 2: 0.86, 3: 0.79, 4: 0.87}
    fused = fuse_linear(lexical, dense)
    assert max(fused, key=fused.get) in (1, 4) and fused[1] > fused[3]
    assert set(fuse_rrf(lexical, dense)) == {1, 2, 3, 4}


def test_search_finds_a_measure_by_number_and_its_page(services):
    hits = services.retriever.search("Çfarë synon Masa 12?", k=5)
    assert any("Masa 12" in " ".join(h.chunk.section) or "Masa 12" in h.chunk.text for h in hits)
    for h in hits:
        doc = services.store.get_document(h.chunk.document_id)
        assert doc.text[h.chunk.start : h.chunk.end] == h.chunk.text
        assert 1 <= h.chunk.page <= doc.pages


def test_filters_by_kind_and_document(services):
    docs = {d.kind: d for d in services.store.list_documents()}
    hits = services.retriever.search("siguria në komunitet", k=5, kind="guide")
    assert hits and all(h.chunk.kind == "guide" for h in hits)
    plan = docs["plan"]
    hits = services.retriever.search("siguria", k=5, document_id=plan.id)
    assert hits and all(h.chunk.document_id == plan.id for h in hits)


def test_the_scanned_slides_are_searchable_after_ocr(services):
    hits = services.retriever.search("mekanizmi i referimit të dhunës në familje", k=5)
    assert any(h.chunk.kind == "slides" or "skanuar" in h.chunk.title.lower() or h.chunk.title.startswith("Mekanizm")
               for h in hits)


def test_dev_questions_are_found_in_the_top_five(services):
    """A regression bar on the development set (a hidden set decides the real score)."""
    items = load_questions(FIXTURES / "eval" / "qa-dev.jsonl")
    search = lambda q, k: [{"text": h.chunk.text} for h in services.retriever.search(q, k=k)]  # noqa: E731
    summary = summarize(run_qa(items, search, None, k=5))
    assert summary["sq"]["hit@5"] >= 0.85
    assert summary["en"]["hit@5"] >= 0.75


def test_changed_normalisation_retokenises_the_index(fresh_services):
    from assistant.core.ingestion import ingest_bytes
    from assistant.core.preparation import lexical_string

    store = fresh_services.store
    ingest_bytes(fresh_services, "shenim.txt", "Ligji për Policinë e Shtetit rregullon policinë.".encode())
    store.db.execute("UPDATE chunks_fts SET lex = 'asgje'")
    assert not store.lexical_search(["ligj"], 5)
    store.db.execute("UPDATE meta SET value = 'old' WHERE key = 'lexical_version'")
    redone = store.ensure_lexical(normalisation_version(), lambda c: lexical_string(c.section, c.text))
    assert redone == 1 and store.lexical_search(["ligj"], 5)


def test_quote_matching_is_the_shared_harness_rule():
    assert any_quote(["Mekanizmi i referimit té dhunés né"], "- Mekanizmi i referimit të dhunës në familje")
