"""Albanian morphology: what a word form is (lemma, part of speech, tense and mood, English gloss).

    >>> [a.lemma for a in analyse("hartojë") if a.subjunctive]
    ['hartoj']
    >>> analyse("kerkoi", diacritics=False)[0].lemma, analyse("kerkoi", diacritics=False)[0].aorist
    ('kërkoj', True)

The analyser is `uniparser-albanian` (rule-based, literary Albanian with Gheg elements; MIT). It
takes 20-30 s and ~0.9 GB to load per mode and then ~2 ms a word, so its answers for the
vocabulary of the bundled texts are shipped precomputed in ingest/data/morfologji-*.tsv.gz (one
table per mode, an empty row for a form it does not know). A form outside them never makes a
request wait, and the analyser never enters the calling process: the first such form starts it
in a child process of its own (`python -m ingest.albanian.morphology serve MODE`, one per mode),
and the form reads as unknown until that child is ready; then forms go to it over a pipe, one
line each. The serving process so stays small (the analyser's memory is the child's) and a
pasted note with new words costs a few ms, not a 60-s load. Rebuild the tables with
`python -m ingest.albanian.morphology build`.

Two modes: `diacritics=True` for standard spelling, `diacritics=False` for text typed without ë/ç
("jane", "kerkoi"): the form is folded and read by the analyser's no-diacritics grammar, whose
lemmas keep their diacritics. `typed_without_diacritics(text)` tells which a text needs.
"""
import gzip
import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
TABLE = {True: DATA / "morfologji-strict.tsv.gz", False: DATA / "morfologji-nodiacritics.tsv.gz"}
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_PLAIN = str.maketrans({"ë": "e", "ç": "c", "Ë": "E", "Ç": "C"})


@dataclass(frozen=True)
class Analysis:
    lemma: str
    pos: str  # V, NOUN, A, ADV, PR, VB_PART, CLIT_PRO, ...
    tags: frozenset[str]  # the analyser's grammatical tags: sbjv, imp, aor, ptcp, pres, ind, pass, 3, sg ...
    gloss: str  # English

    @property
    def verb(self) -> bool:
        return self.pos == "V"

    @property
    def subjunctive(self) -> bool:
        return self.verb and "sbjv" in self.tags

    @property
    def imperative(self) -> bool:
        return self.verb and "imp" in self.tags

    @property
    def aorist(self) -> bool:
        return self.verb and "aor" in self.tags

    @property
    def participle(self) -> bool:
        """The form of the perfect ('ka hartuar', 'është bërë') and of the Gheg infinitive ('me bo')."""
        return self.verb and "ptcp" in self.tags


def _normal(word: str, diacritics: bool) -> str:
    word = word.strip().lower().replace("’", "'")
    return word if diacritics else word.translate(_PLAIN)


def analyse(word: str, diacritics: bool = True) -> tuple[Analysis, ...]:
    """Every analysis of one word form (several for an ambiguous form, none for an unknown one
    or, while the analyser is still loading, for a form outside the shipped tables)."""
    form = _normal(word, diacritics)
    if not WORD.fullmatch(form):  # numbers, punctuation: not words
        return ()
    table = _table(diacritics)
    if form in table:
        return table[form]
    if diacritics not in _LOADED:
        warm(diacritics)
        return ()
    return _analysed(form, diacritics)


@lru_cache(maxsize=200_000)
def _analysed(form: str, diacritics: bool) -> tuple[Analysis, ...]:
    return tuple(_analysis(lemma, gramm, gloss) for lemma, gramm, gloss in _CHILDREN[diacritics].ask(form))


def typed_without_diacritics(text: str) -> bool:
    """A text of some length with no ë or ç was typed without them ('jane', 'eshte', 'kerkoi')."""
    words = WORD.findall(text)
    return len(words) >= 20 and not any(c in text for c in "ëçËÇ")


def warm(diacritics: bool = True) -> None:
    """Start the analyser's child process in the background, once per mode and process."""
    with _LOCK:
        if diacritics in _STARTED:
            return
        _STARTED.add(diacritics)
    threading.Thread(target=_load, args=(diacritics,), daemon=True).start()


# ---------- the analyser, in a child process, and its precomputed tables ----------
_LOCK = threading.Lock()
_STARTED: set[bool] = set()
_LOADED: set[bool] = set()


class _AnalyserProcess:
    """One mode's analyser in a child process: a form per line in, its analyses as JSON per line out.

    The child leaves when its stdin closes, so it never outlives the process that started it."""

    def __init__(self, diacritics: bool):
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "ingest.albanian.morphology", "serve", "strict" if diacritics else "nodiacritics"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
            env=env, cwd=root)
        self._lock = threading.Lock()
        if self._proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the morphological analyser did not start")

    def ask(self, form: str) -> list[list[str]]:
        with self._lock:  # one question at a time on the pipe
            if self._proc.poll() is not None:
                return []
            self._proc.stdin.write(form + "\n")
            self._proc.stdin.flush()
            return json.loads(self._proc.stdout.readline() or "[]")


_CHILDREN: dict[bool, _AnalyserProcess] = {}


def _load(diacritics: bool) -> None:
    try:
        _CHILDREN[diacritics] = _AnalyserProcess(diacritics)
    except (OSError, RuntimeError):
        return  # forms outside the tables stay unknown: the readers fall back on their other cues
    _LOADED.add(diacritics)


@lru_cache(maxsize=2)
def _analyser(diacritics: bool):
    """The analyser itself, in this process: only the child and `build` load it."""
    from uniparser_albanian import AlbanianAnalyzer

    return AlbanianAnalyzer(mode="strict" if diacritics else "nodiacritics")


def _serve(mode: str) -> None:
    analyser = _analyser(mode == "strict")
    print("ready", flush=True)
    for line in sys.stdin:
        form = line.rstrip("\n")
        rows = [[a.lemma, _gramm(a), a.gloss] for a in map(_from_analyser, analyser.analyze_words(form))] if form else []
        print(json.dumps(rows, ensure_ascii=False), flush=True)


def _analysis(lemma: str, gramm: str, gloss: str) -> Analysis:
    """An analysis from the analyser's 'POS,tag,tag' string (as the tables and the child write it)."""
    pos, *tags = gramm.split(",")
    return Analysis(lemma, pos, frozenset(tags), gloss)


def _gramm(a: Analysis) -> str:
    return ",".join([a.pos, *sorted(a.tags)])


def _from_analyser(wf) -> Analysis:
    return _analysis(wf.lemma, wf.gramm, dict(wf.otherData).get("trans_en", ""))


@lru_cache(maxsize=2)
def _table(diacritics: bool) -> dict[str, tuple[Analysis, ...]]:
    """form -> analyses, as written by build(); an empty row marks a form the analyser does not know."""
    out: dict[str, list[Analysis]] = {}
    path = TABLE[diacritics]
    if not path.exists():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            form, lemma, gramm, gloss = line.rstrip("\n").split("\t")
            row = out.setdefault(form, [])
            if lemma:
                row.append(_analysis(lemma, gramm, gloss))
    return {k: tuple(v) for k, v in out.items()}


# ---------- building the tables (run by hand; the results are committed data files) ----------
def vocabulary(root: Path) -> set[str]:
    """Lower-case word forms of the bundled texts: corpus, test fixtures, real texts, the corpus word list."""
    words: set[str] = set()
    paths = [p for folder in ("corpus", "tests/fixtures", "bench/realtexts") for p in (root / folder).rglob("*")
             if p.suffix in (".txt", ".md")]
    paths.append(DATA / "fjale-korpusi.txt")
    for path in paths:
        words.update(_normal(w, True) for w in WORD.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return {w for w in words if len(w) > 0}


def build(root: Path) -> None:
    words = sorted(vocabulary(root))
    for diacritics in (True, False):
        forms = sorted({_normal(w, diacritics) for w in words})
        analyser = _analyser(diacritics)
        rows = []
        for form in forms:
            analyses = [_from_analyser(a) for a in analyser.analyze_words(form)]
            rows += [f"{form}\t{a.lemma}\t{_gramm(a)}\t{a.gloss}" for a in analyses] or [
                f"{form}\t\t\t"]
        header = (f"# uniparser-albanian 2.3.0 (MIT), mode {'strict' if diacritics else 'nodiacritics'}: "
                  "form, lemma, POS+tags, English gloss. Built by ingest/albanian/morphology.py.\n")
        with gzip.open(TABLE[diacritics], "wt", encoding="utf-8", compresslevel=9) as fh:
            fh.write(header + "\n".join(rows) + "\n")
        print(f"{TABLE[diacritics].name}: {len(forms)} forms, {len(rows)} rows")


if __name__ == "__main__":
    if sys.argv[1:] == ["build"]:
        build(Path(__file__).resolve().parents[2])
    elif sys.argv[1:2] == ["serve"] and sys.argv[2:] in (["strict"], ["nodiacritics"]):
        _serve(sys.argv[2])
    else:
        print("usage: python -m ingest.albanian.morphology build | serve strict|nodiacritics")
