"""The one citation type (assistant/core/sources.py): what every producer's stored dict reads as."""
from assistant.core.sources import Source
from web.routes.audit import sources_of


def test_a_source_is_written_as_the_dict_it_was_read_from():
    stored = {"document_id": "d1", "sha256": "ab" * 32, "version": 2, "page": 5, "start": 10, "end": 42,
              "quote": "Kryetari i bashkisë drejton mbledhjen."}
    source = Source.from_dict(stored)
    assert source == Source(10, 42, stored["quote"], "d1", "ab" * 32, 2, 5)
    assert source.public() == stored
    pasted = {"start": 0, "end": 7, "quote": "Ndriçim"}
    assert Source.from_dict(pasted).public() == pasted  # no document: a span of the pasted text


def test_dicts_that_cite_no_span_are_no_sources():
    for value in ({"start": 3, "end": 9}, {"start": True, "end": 4, "quote": "x"}, {"start": 9, "end": 3, "quote": "x"},
                  {"start": "0", "end": "4", "document_id": "d1"}, ["not", "a", "dict"], None):
        assert Source.from_dict(value) is None


def test_the_trace_finds_every_source_of_an_artifact_once():
    citation = {"n": 1, "chunk_id": 7, "document_id": "d1", "title": "Rregullore", "page": 2, "start": 5, "end": 30,
                "text": "…", "quote": "Këshilli mblidhet çdo tre muaj.", "url": "/documents/d1?start=5&end=30"}
    artifact = {"payload": {"citations": [citation], "rows": [{"source": {"document_id": "d1", "start": 5, "end": 30,
                                                                        "quote": "Këshilli mblidhet çdo tre muaj."}},
                                                            {"source": {"start": 0, "end": 4, "quote": "Plan"}}],
                            "inputs": {"start": 1, "end": 2}}}
    found = sources_of(artifact)
    assert found == [citation, {"start": 0, "end": 4, "quote": "Plan"}]  # as stored, the citation keeps its number
