"""The Albanian morphology (ingest/albanian/morphology.py) on real word forms, from its shipped tables."""
import time

from ingest.albanian import morphology


def test_task_and_past_forms():
    assert any(a.subjunctive and a.lemma == "hartoj" for a in morphology.analyse("hartojë"))
    assert any(a.aorist and a.lemma == "kërkoj" for a in morphology.analyse("kërkoi"))
    assert any(a.participle and a.lemma == "hartoj" for a in morphology.analyse("hartuar"))
    assert not any(a.subjunctive for a in morphology.analyse("policia"))


def test_gloss_and_lemma_of_a_noun():
    analyses = morphology.analyse("Bashkia")  # case does not matter
    assert any(a.lemma == "bashki" and a.pos == "NOUN" and "municipality" in a.gloss for a in analyses)


def test_text_typed_without_diacritics():
    assert [a.lemma for a in morphology.analyse("kerkoi", diacritics=False) if a.aorist] == ["kërkoj"]
    assert any(a.subjunctive for a in morphology.analyse("hartoje", diacritics=False))
    assert morphology.typed_without_diacritics("Policia te beje kontroll ne tregun per shitjen e fishekzjarreve " * 3)
    assert not morphology.typed_without_diacritics("Policia të bëjë kontroll në tregun për shitjen " * 3)


def test_gheg_infinitive_participle():
    assert any(a.participle and a.lemma == "çoj" for a in morphology.analyse("çue"))


def test_cached_lookups_are_fast():
    words = "Komisariati i Policisë u ngarkua që deri më 10 maj të paraqesë në SKN hartën e zonave".split()
    t = time.perf_counter()
    for w in words:
        morphology.analyse(w)
    assert (time.perf_counter() - t) / len(words) < 0.05  # from the table, not the 20-s analyser


def test_a_form_outside_the_tables_never_makes_the_caller_wait():
    t = time.perf_counter()
    morphology.analyse("zzqxhartojësh")  # not Albanian, not in the shipped tables
    assert time.perf_counter() - t < 1.0  # the 20-s analyser loads in the background instead


def test_a_form_outside_the_tables_is_read_by_the_analyser_in_a_child_process():
    assert "patrullojnë" not in morphology._table(True)  # a real verb form the shipped tables lack
    deadline = time.perf_counter() + 180
    while not morphology.analyse("patrullojnë") and time.perf_counter() < deadline:
        time.sleep(0.5)  # unknown until the child has loaded the analyser
    assert "patrulloj" in {a.lemma for a in morphology.analyse("patrullojnë")}
    assert morphology._analyser.cache_info().currsize == 0  # never loaded here: its ~0.9 GB stay in the child
