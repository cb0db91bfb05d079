"""Extraction evaluation: the `*.gold.json` files of a folder, scored as shared/eval/run_extract.py
scores them, through the HTTP API (an in-process TestClient or a server's base URL).

A gold file `X.gold.json` annotates the document `X` beside it; its keys choose the tasks:
`meeting` / `action_items` -> actions (and minutes for .txt notes), `rows` -> plan,
`concerns` -> propose, `facts` -> /api/ask per fact. Texts are compared with the folding of
assistant/evaluation.py; a failed request scores as an empty answer and is listed in `errors`.
The constants and rules below define the metric: keep them identical to the shared harness.
"""
import json
import mimetypes
import os
import re
import zipfile
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

from assistant.evaluation.qa import fold_for_match as fold
from assistant.evaluation.qa import quote_matches as matches

TASKS = ("actions", "minutes", "plan", "propose", "facts")
MIN_COVER = 0.25  # a text matches another only when at least a quarter as long: a whole page or one word never does
CONNECTORS = {"a", "dhe", "e", "i", "me", "ne", "nga", "per", "se", "te"}  # folded particles, skipped in initials
DIGRAPHS = ("dh", "gj", "ll", "nj", "rr", "sh", "th", "xh", "zh")  # one letter each in an acronym: NJMF, DVSHP
EXACT_FIELDS = ("date", "start_time", "end_time", "meeting_number")
FUZZY_FIELDS = ("chair", "secretary", "place")
PEOPLE_FIELDS = ("present", "absent", "invited", "late", "left_early")
LINE_FIELDS = ("agenda", "decisions", "deferred")
LIST_CELLS = ("activities", "responsible", "partners")
UP, LO = "A-ZÇË", "a-zçë"
INITIAL_NAME = re.compile(rf"(?<![{UP}{LO}])([{UP}]|Dh|Gj|Ll|Nj|Rr|Sh|Th|Xh|Zh)\. ?([{UP}][{LO}]+)")  # Gj. Kola
TWO_CAPS = re.compile(rf"(?<![{UP}{LO}])(?=(([{UP}][{LO}]+) ([{UP}][{LO}]{{2,}}))(?![{UP}{LO}]))")  # overlapping
COLUMNS = {  # the summary figures shown per task, in table order
    "actions": "gold predicted matched extra_ok precision recall f1 owner_accuracy due_accuracy distractor_hits",
    "minutes": "date start_time end_time meeting_number chair secretary place attendance_f1 agenda_recall "
               "decisions_recall deferred_recall invented_names docx_ok",
    "plan": "rows_gold rows_pred rows_matched cells_gold cells_pred cells_ok cell_precision cell_recall cell_f1",
    "propose": "concerns rows found concern_recall precision priority_accuracy responsible_jaccard",
    "facts": "facts correct accuracy",
}


# ---------------------------------------------------------------- comparing texts
def text(x) -> str:
    return "" if x is None else str(x)


def as_list(x) -> list[str]:
    return [text(v) for v in x if text(v).strip()] if isinstance(x, list) else []


def objects(x) -> list[dict]:
    return [v for v in x if isinstance(v, dict)] if isinstance(x, list) else []


def quote_of(item: dict) -> str:
    src = item.get("source")
    return text(src.get("quote")) if isinstance(src, dict) else ""


def fuzzy(a, b) -> bool:
    """Either text found in the other by quote_matches(), and of comparable length (MIN_COVER)."""
    a, b = text(a), text(b)
    fa, fb = fold(a), fold(b)
    if not fa or not fb or min(len(fa), len(fb)) < MIN_COVER * max(len(fa), len(fb)):
        return False
    return matches(a, b) or matches(b, a)


def contains_words(fa: str, fb: str) -> bool:
    return bool(fa and fb) and (f" {fa} " in f" {fb} " or f" {fb} " in f" {fa} ")


def acronym_of(short: str, long: str) -> bool:
    """'KP' ~ 'Komisariati i Policisë Lumëz', 'PRGJ' ~ 'Prokuroria e Rrethit Gjyqësor'."""
    short = short.strip()
    if not re.fullmatch(rf"[{UP}{LO}]{{2,8}}", short) or sum(c.isupper() for c in short) < 2:
        return False
    rest, letters = fold(short), ""
    while rest:
        letters += rest[0]
        rest = rest[2:] if rest[:2] in DIGRAPHS else rest[1:]
    return "".join(w[0] for w in fold(long).split() if w not in CONNECTORS).startswith(letters)


def same_word(a: str, b: str) -> bool:
    """'policia' ~ 'policisë' (endings); 'dr' ~ 'drejtoria', 'sh' ~ 'shërbimi' (abbreviations)."""
    if min(len(a), len(b)) <= 4:
        short, long = sorted((a, b), key=len)
        return len(short) >= 2 and long.startswith(short)
    return len(os.path.commonprefix([a, b])) >= max(4, min(len(a), len(b)) - 2)


def words_cover(fa: str, fb: str) -> bool:
    """Every word of the shorter name is, up to its ending, a word of the other: 'Sh. Sociale' ~ 'Shërbimi Social'."""
    wa, wb = [w for w in fa.split() if w not in CONNECTORS], [w for w in fb.split() if w not in CONNECTORS]
    short, long = sorted((wa, wb), key=len)
    return bool(short) and all(any(same_word(s, w) for w in long) for s in short)


def owner_equal(a, b) -> bool:
    """Owner / institution names, tolerant of abbreviations: 'KP' ~ 'Komisariati i Policisë (KP)'."""
    def aliases(name):  # a bracketed part also stands for the whole: (KP), (Malaj), (Drejtoria e ...)
        parts = [name, re.sub(r"\([^)]*\)", " ", name), *re.findall(r"\(([^)]*)\)", name)]
        return [x for x in parts if fold(x)]
    return any(contains_words(fold(x), fold(y)) or acronym_of(x, y) or acronym_of(y, x)
               or words_cover(fold(x), fold(y)) for x in aliases(text(a)) for y in aliases(text(b)))


def person_equal(p: dict, g: dict) -> bool:
    """By folded name ('imam F. Lleshi' ~ 'F. Lleshi'); a gold person without a name by institution."""
    if text(g.get("name")):
        return contains_words(fold(text(p.get("name"))), fold(text(g.get("name"))))
    return owner_equal(p.get("institution"), g.get("institution"))


def owners_equal(pred: list[str], gold: list[str]) -> bool:
    """Each gold owner has a predicted one and each predicted owner a gold one."""
    return (all(any(owner_equal(p, g) for p in pred) for g in gold)
            and all(any(owner_equal(p, g) for g in gold) for p in pred))


def greedy_pairs(preds: list, golds: list, score) -> dict[int, int]:
    """One-to-one {pred index: gold index}, strongest pairs first; score(pred, gold) == 0 means no match."""
    pairs, used = {}, set()
    for s, i, j in sorted((-int(score(p, g)), i, j) for i, p in enumerate(preds) for j, g in enumerate(golds)):
        if s < 0 and i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """Precision, recall, F1; nothing to find and nothing found counts as perfect."""
    p = tp / n_pred if n_pred else float(n_gold == 0)
    r = tp / n_gold if n_gold else float(n_pred == 0)
    return round(p, 3), round(r, 3), round(2 * p * r / (p + r), 3) if p + r else 0.0


def ratio(num, den) -> float | None:
    return round(num / den, 3) if den else None


# ---------------------------------------------------------------- one file's counts, per task
def score_actions(gold: dict, items: list[dict]) -> dict:
    """Pairs on source quote (weight 2) or action text; acceptable extras are excused; distractors listed."""
    golds, extras = gold.get("action_items", []), gold.get("acceptable_extra_actions", [])

    def strength(p, g):
        return 2 * fuzzy(quote_of(p), g.get("source_quote")) + fuzzy(p.get("action"), g.get("action"))
    pairs = greedy_pairs(items, golds, strength)
    left = [p for i, p in enumerate(items) if i not in pairs]
    excused = greedy_pairs(left, extras, strength)
    left = [p for i, p in enumerate(left) if i not in excused]
    hits = [quote_of(p) or text(p.get("action")) for p in left
            if any(fuzzy(quote_of(p), d.get("source_quote")) or fuzzy(p.get("action"), d.get("source_quote"))
                   for d in gold.get("distractors", []))]
    return {"gold": len(golds), "predicted": len(items), "matched": len(pairs), "extra_ok": len(excused),
            "false_pos": len(left), "distractor_hits": hits,
            "owner_ok": sum(owners_equal(as_list(items[i].get("owner")), as_list(golds[j].get("owner")))
                            for i, j in pairs.items()),
            "due_ok": sum(items[i].get("due") == golds[j].get("due") for i, j in pairs.items())}


def invented_names(draft: str, notes: str) -> list[str]:
    """Person names in the draft that the notes do not have (folded): an initial and a surname ('A. Hoxha'), or
    a given name written out where the notes give only its initial ('Gentian Mërtiri' for 'G. Mërtiri')."""
    notes_f = f" {fold(notes)} "
    initials = {(fold(m[1])[0], fold(m[2])) for m in INITIAL_NAME.finditer(notes)}
    found = []
    for line in draft.splitlines():
        found += [m[0] for m in INITIAL_NAME.finditer(line)
                  if not (m[1] in ("I", "V", "X") and not line[:m.start()].strip())]  # not a heading "V. Vendimet"
        found += [m[1] for m in TWO_CAPS.finditer(line) if (fold(m[2])[0], fold(m[3])) in initials]
    return list(dict.fromkeys(n for n in found if f" {fold(n)} " not in notes_f))


def score_minutes(gold: dict, meeting: dict, draft: str, notes: str) -> dict:
    """Exact and fuzzy fields, attendance sets by folded name, recall of gold lines, invented names."""
    out = {"exact": {k: text(meeting.get(k)).strip() == text(gold[k]).strip() for k in EXACT_FIELDS if k in gold},
           "fuzzy": {k: fuzzy(meeting.get(k), gold[k]) if gold[k] else not text(meeting.get(k))
                     for k in FUZZY_FIELDS if k in gold},
           "people": {}, "lines": {}, "invented": invented_names(draft, notes)}
    for k in PEOPLE_FIELDS:
        g, p = objects(gold.get(k)), objects(meeting.get(k))
        out["people"][k] = [len(greedy_pairs(p, g, person_equal)), len(p), len(g)]
    for k in LINE_FIELDS:
        lines = as_list(meeting.get(k))
        out["lines"][k] = [sum(any(fuzzy(x, g) for x in lines) for g in gold.get(k) or []), len(gold.get(k) or [])]
    return out


def count_cells(row: dict) -> int:
    scalars = sum(bool(text(row.get(k)).strip()) for k in ("problem", "priority", "deadline_text"))
    return scalars + sum(len(as_list(row.get(k))) for k in LIST_CELLS)


def cells_correct(pred: dict, gold: dict) -> int:
    n = sum(bool(text(gold.get(k))) and fuzzy(pred.get(k), gold.get(k)) for k in ("problem", "deadline_text"))
    n += bool(text(gold.get("priority"))) and fold(text(pred.get("priority"))) == fold(text(gold.get("priority")))
    return n + sum(len(greedy_pairs(as_list(pred.get(k)), as_list(gold.get(k)), fuzzy)) for k in LIST_CELLS)


def score_plan(gold_rows: list[dict], rows: list[dict]) -> dict:
    """Rows paired by nr first, then by fuzzy problem; cells = problem, priority, deadline_text + each list item."""
    def nr(r):
        return text(r.get("nr")).strip().rstrip(".")

    def strength(p, g):
        return 2 * (nr(p) != "" and nr(p) == nr(g)) + fuzzy(p.get("problem"), g.get("problem"))
    pairs = greedy_pairs(rows, gold_rows, strength)
    return {"rows_gold": len(gold_rows), "rows_pred": len(rows), "rows_matched": len(pairs),
            "cells_gold": sum(map(count_cells, gold_rows)), "cells_pred": sum(map(count_cells, rows)),
            "cells_ok": sum(cells_correct(rows[i], gold_rows[j]) for i, j in pairs.items())}


def score_propose(concerns: list[dict], rows: list[dict]) -> dict:
    """A concern is found by a row whose source quote or problem matches its source_quote or topic."""
    def strength(r, c):
        return sum(fuzzy(a, b) for a in (quote_of(r), r.get("problem"))
                   for b in (c.get("source_quote"), c.get("topic")))

    def jaccard(p, g):
        m = len(greedy_pairs(p, g, owner_equal))
        return m / (len(p) + len(g) - m) if p or g else 1.0
    pairs = greedy_pairs(rows, concerns, strength)
    return {"concerns": len(concerns), "rows": len(rows), "found": len(pairs),
            "rows_on_concern": sum(any(strength(r, c) for c in concerns) for r in rows),
            "priority_ok": sum(fold(text(rows[i].get("priority"))) == fold(text(concerns[j].get("suggested_priority")))
                               for i, j in pairs.items()),
            "jaccards": [jaccard(as_list(rows[i].get("responsible")), as_list(concerns[j].get("likely_responsible")))
                         for i, j in pairs.items()]}


def score_fact(fact: dict, answer: dict) -> bool:
    """Right when the answer does not abstain and a citation's quote or passage contains the gold quote."""
    gold = text(fact.get("source_quote") or fact.get("quote"))
    return not answer.get("abstained") and any(matches(gold, text(c.get("quote"))) or matches(gold, text(c.get("text")))
                                               for c in objects(answer.get("citations")))


# ---------------------------------------------------------------- totals over files
def figures_actions(files: list[dict]) -> dict:
    n = {k: sum(f[k] for f in files)
         for k in ("gold", "predicted", "matched", "extra_ok", "false_pos", "owner_ok", "due_ok")}
    p, r, f1 = prf(n["matched"], n["matched"] + n["false_pos"], n["gold"])
    return {**n, "precision": p, "recall": r, "f1": f1, "owner_accuracy": ratio(n["owner_ok"], n["matched"]),
            "due_accuracy": ratio(n["due_ok"], n["matched"]),
            "distractor_hits": sum(len(f["distractor_hits"]) for f in files)}


def figures_minutes(files: list[dict]) -> dict:
    def accuracy(group, k):
        hits = [f[group][k] for f in files if k in f[group]]
        return ratio(sum(hits), len(hits))

    def f1(keys):
        return prf(*(sum(f["people"][k][i] for f in files for k in keys) for i in range(3)))[2]

    def recall(k):
        return ratio(sum(f["lines"][k][0] for f in files), sum(f["lines"][k][1] for f in files))
    return {**{k: accuracy("exact", k) for k in EXACT_FIELDS}, **{k: accuracy("fuzzy", k) for k in FUZZY_FIELDS},
            "attendance_f1": f1(PEOPLE_FIELDS), **{f"{k}_f1": f1([k]) for k in PEOPLE_FIELDS},
            **{f"{k}_recall": recall(k) for k in LINE_FIELDS},
            "invented_names": sum(len(f["invented"]) for f in files), "docx_ok": sum(f["docx_ok"] for f in files)}


def figures_plan(files: list[dict]) -> dict:
    n = {k: sum(f[k] for f in files)
         for k in ("rows_gold", "rows_pred", "rows_matched", "cells_gold", "cells_pred", "cells_ok")}
    p, r, f1 = prf(n["cells_ok"], n["cells_pred"], n["cells_gold"])
    return {**n, "cell_precision": p, "cell_recall": r, "cell_f1": f1}


def figures_propose(files: list[dict]) -> dict:
    n = {k: sum(f[k] for f in files) for k in ("concerns", "rows", "found", "rows_on_concern", "priority_ok")}
    jaccards = [j for f in files for j in f["jaccards"]]
    return {**n, "concern_recall": prf(n["found"], n["found"], n["concerns"])[1],
            "precision": prf(n["rows_on_concern"], n["rows"], n["concerns"])[0],
            "priority_accuracy": ratio(n["priority_ok"], n["found"]),
            "responsible_jaccard": ratio(sum(jaccards), len(jaccards))}


def figures_facts(files: list[dict]) -> dict:
    n, correct = sum(f["facts"] for f in files), sum(f["correct"] for f in files)
    return {"facts": n, "correct": correct, "accuracy": ratio(correct, n)}


FIGURES = {"actions": figures_actions, "minutes": figures_minutes, "plan": figures_plan,
           "propose": figures_propose, "facts": figures_facts}


# ---------------------------------------------------------------- the requests
class Api:
    """The routes the harness calls, over an httpx-style client (httpx.Client with base_url, or
    fastapi's TestClient); every failure raises, and `attempt` turns it into an empty answer."""

    def __init__(self, client):
        self.client, self.doc_ids = client, {}

    def post_json(self, path: str, payload: dict, key: str | None = None):
        """The JSON object answered; with `key`, its list under that key (its objects only)."""
        response = self.client.post(path, json=payload)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict) or (key and not isinstance(data.get(key), list)):
            raise ValueError(f"{path} did not answer a JSON object" + (f" with a list '{key}'" if key else ""))
        return objects(data[key]) if key else data

    def get_bytes(self, path: str) -> bytes:
        response = self.client.get(path)
        response.raise_for_status()
        return response.content

    def upload(self, path: Path) -> str:
        """POST /api/documents once per file and run; returns the document id."""
        if path not in self.doc_ids:
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            response = self.client.post("/api/documents", files={"file": (path.name, path.read_bytes(), ctype)})
            response.raise_for_status()
            doc = response.json()
            if not isinstance(doc, dict) or not isinstance(doc.get("document"), dict) or "id" not in doc["document"]:
                raise ValueError("/api/documents did not answer {'document': {'id': ...}}")
            self.doc_ids[path] = str(doc["document"]["id"])
        return self.doc_ids[path]

    def source(self, path: Path) -> dict:
        """{"text": ...} for a .txt file, else {"document_id": ...} of the uploaded file."""
        if path.suffix.lower() == ".txt":
            return {"text": path.read_text(encoding="utf-8")}
        return {"document_id": self.upload(path)}


def attempt(errors: list[str], label: str, fetch, score, empty):
    try:
        return score(fetch())
    except Exception as exc:  # never stop the run: the item scores as an empty answer
        errors.append(f"{label}: {type(exc).__name__}: {exc}")
        return score(empty)


def is_docx(data: bytes) -> bool:
    return zipfile.is_zipfile(BytesIO(data)) and "word/document.xml" in zipfile.ZipFile(BytesIO(data)).namelist()


def eval_actions(api: Api, src: Path, gold: dict, errors: list[str]) -> dict:
    return attempt(errors, f"actions {src.name}",
                   lambda: api.post_json("/api/actions/extract", api.source(src), "items"),
                   lambda items: score_actions(gold, items), [])


def eval_plan(api: Api, src: Path, gold: dict, errors: list[str]) -> dict:
    return attempt(errors, f"plan {src.name}",
                   lambda: api.post_json("/api/plan/extract", {"document_id": api.upload(src)}, "rows"),
                   lambda rows: score_plan(gold["rows"], rows), [])


def eval_propose(api: Api, src: Path, gold: dict, errors: list[str]) -> dict:
    return attempt(errors, f"propose {src.name}",
                   lambda: api.post_json("/api/plan/propose", api.source(src), "rows"),
                   lambda rows: score_propose(gold["concerns"], rows), [])


def eval_minutes(api: Api, src: Path, gold: dict, errors: list[str]) -> dict:
    notes, resp = src.read_text(encoding="utf-8"), {}

    def fetch():
        resp.update(api.post_json("/api/minutes/draft", {"notes": notes}))
        if not isinstance(resp.get("meeting"), dict) or not isinstance(resp.get("draft"), dict):
            raise ValueError("response lacks the 'meeting' or 'draft' object")
        return resp["meeting"], text(resp["draft"].get("text"))
    out = attempt(errors, f"minutes {src.name}", fetch, lambda md: score_minutes(gold["meeting"], *md, notes), ({}, ""))
    docx_path = f"/api/minutes/{quote(text(resp.get('id')))}.docx"
    out["docx_ok"] = resp.get("id") is not None and attempt(
        errors, f"minutes {src.name} docx", lambda: api.get_bytes(docx_path), is_docx, b"")
    return out


def eval_facts(api: Api, src: Path, gold: dict, errors: list[str]) -> dict:
    attempt(errors, f"facts {src.name} upload", lambda: api.upload(src), lambda _: None, None)  # for /api/ask to cite
    ok = [attempt(errors, f"facts {src.name} {fact.get('question')!r}",
                  lambda: api.post_json("/api/ask", {"question": fact.get("question")}),
                  lambda answer: score_fact(fact, answer), {}) for fact in gold["facts"]]
    missed = [f.get("question") for f, hit in zip(gold["facts"], ok) if not hit]
    return {"facts": len(ok), "correct": sum(ok), "missed": missed}


EVALUATE = {"actions": eval_actions, "minutes": eval_minutes, "plan": eval_plan, "propose": eval_propose,
            "facts": eval_facts}


# ---------------------------------------------------------------- a folder
def jobs_by_task(folder: Path, errors: list[str]) -> dict[str, list[tuple[Path, dict]]]:
    """{task: [(source file, gold)]} from the *.gold.json files, chosen by the gold's keys."""
    jobs: dict[str, list] = {t: [] for t in TASKS}
    for gpath in sorted(folder.glob("*.gold.json")):
        src = gpath.with_name(gpath.name[: -len(".gold.json")])
        try:
            gold = json.loads(gpath.read_text(encoding="utf-8"))
            src.stat()
        except (OSError, ValueError) as exc:
            errors.append(f"skipped {gpath.name}: {type(exc).__name__}: {exc}")
            continue
        is_meeting = "meeting" in gold or "action_items" in gold
        for task, wanted in (("actions", is_meeting), ("minutes", "meeting" in gold and src.suffix.lower() == ".txt"),
                             ("plan", "rows" in gold), ("propose", "concerns" in gold), ("facts", "facts" in gold)):
            if wanted:
                jobs[task].append((src, gold))
    return jobs


def run_extract(folder: Path, client, only=TASKS) -> dict:
    """{"summary": {task: figures, "errors": n}, "files": {task: [per-file counts]}, "errors": [...]},
    the shape run_extract.py writes with --json."""
    api, errors, summary, files = Api(client), [], {}, {}
    jobs = jobs_by_task(folder, errors)
    for task in [t for t in TASKS if t in only]:
        files[task] = [{"file": src.name, **EVALUATE[task](api, src, gold, errors)} for src, gold in jobs[task]]
        summary[task] = {"files": len(files[task]), **FIGURES[task](files[task])}
    summary["errors"] = len(errors)
    return {"summary": summary, "files": files, "errors": errors}
