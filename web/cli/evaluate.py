"""`kvsp eval QUESTIONS.jsonl` and `kvsp eval --extract DIR`: the shared harness's metrics, measured
in-process on the configured data folder (the default) or against a running server (`--base URL`).

Question sets score search and answers as shared/eval/run_qa.py does (assistant/evaluation.py);
gold folders score extraction as shared/eval/run_extract.py does (assistant/eval_extract.py).
"""
import json
from pathlib import Path

import typer

LANGS = {"sq": ("sq",), "en": ("en",), "both": ("sq", "en")}
QUESTIONS_HELP = ('Question set, JSONL, one question a line: {"id", "question", "question_en", "answerable", '
                  '"gold": [{"quote"}]}')


def inprocess_qa(services):
    """search/ask callables over the same code the /api/search and /api/ask routes run."""
    from assistant.answers import service as answer
    from web.routes.search import search_results

    def search(q: str, k: int) -> list[dict]:
        return search_results(services, q, k, None)

    def ask(q: str, history: tuple[str, ...] = ()) -> dict:
        result, artifact_id = answer.ask(services, q.strip(), producer="eval", history=history)
        return {**result.public(), "artifact_id": artifact_id}

    return search, ask


def _client(base: str | None, token: str | None, timeout: float):
    """An httpx-style client: the app itself in this process, or a server at `base`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if base:
        import httpx

        return httpx.Client(base_url=base.rstrip("/"), headers=headers, timeout=timeout)
    from fastapi.testclient import TestClient

    from assistant.accounts.auth import local_mode
    from assistant.store import open_database
    from assistant.core.settings import get_settings
    from web.app import build_services, create_app

    settings = get_settings()
    if not token and not local_mode(open_database(settings)):
        typer.echo("error: this data folder has accounts, so the API needs a login: pass --token T", err=True)
        raise typer.Exit(2)
    return TestClient(create_app(settings, build_services(settings)), base_url="http://localhost",  # a local Host
                      headers=headers, raise_server_exceptions=False)


def _check_reachable(client, base: str) -> None:
    import httpx

    try:
        client.get("/api/documents")
    except httpx.TransportError as exc:
        typer.echo(f"server unreachable at {base}: {exc}", err=True)
        raise typer.Exit(2) from None


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def print_qa(summary: dict, rows: list[dict], errors: list[str], langs, k: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Questions (search k={k})")
    table.add_column("metric")
    for lang in langs:
        table.add_column(lang, justify="right")
    for metric in summary[langs[0]]:
        table.add_row(metric, *(_fmt(summary[lang][metric]) for lang in langs))
    console = Console()
    console.print(table)
    lat = summary["latency_ms"]
    console.print(f"latency ms: search p50 {lat['search_p50']} p95 {lat['search_p95']}, "
                  f"ask p50 {lat['ask_p50']} p95 {lat['ask_p95']}")
    misses = [f"{r['id']}/{r['lang']}" for r in rows if r["answerable"] and not r["rank"]]
    console.print("missed in search: " + (" ".join(misses) or "none"), markup=False)
    if errors:
        console.print(f"{len(errors)} request errors, first: {errors[0]}", markup=False)


LABELS = {"predicted": "pred", "precision": "P", "recall": "R", "f1": "F1", "owner_accuracy": "owner",
          "due_accuracy": "due", "distractor_hits": "distract.", "start_time": "start", "end_time": "end",
          "meeting_number": "nr", "attendance_f1": "attend.F1", "agenda_recall": "agenda R",
          "decisions_recall": "decis. R", "deferred_recall": "defer. R", "invented_names": "invented",
          "docx_ok": "docx", "cell_precision": "P", "cell_recall": "R", "cell_f1": "F1", "concern_recall": "recall",
          "priority_accuracy": "priority", "responsible_jaccard": "resp.Jacc"}  # short column names


def print_columns(title: str, header: list[str], rows: list[list]) -> None:
    """A plain aligned table, as run_extract.py prints it (wide tables stay readable in any terminal)."""
    cells = [header] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    typer.echo(f"\n{title}")
    for r in cells:
        typer.echo("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def print_extract(result: dict, folder: Path) -> None:
    from assistant.evaluation.extract import COLUMNS, FIGURES

    for task, per_file in result["files"].items():
        keys = COLUMNS[task].split()
        rows = [[f["file"], *(FIGURES[task]([f])[k] for k in keys)] for f in per_file]
        rows.append(["TOTAL", *(result["summary"][task][k] for k in keys)])
        print_columns(f"{task}  ({folder})", ["file", *(LABELS.get(k, k) for k in keys)], rows)
    for task, key, what in (("minutes", "invented", "invented names"), ("actions", "distractor_hits", "distractors"),
                            ("facts", "missed", "facts missed")):
        for f in result["files"].get(task, []):
            if f[key]:
                typer.echo(f"{what} in {f['file']}: " + " | ".join(map(str, f[key])))
    errors = result["errors"]
    typer.echo(f"\n{len(errors)} request errors" + (f", first: {errors[0]}" if errors else ""))


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_(questions: Path = typer.Argument(None, exists=True, dir_okay=False,
                                               help=QUESTIONS_HELP),
              extract: Path = typer.Option(None, "--extract", exists=True, file_okay=False,
                                           help="Folder of documents with *.gold.json annotations"),
              only: str = typer.Option(None, help="With --extract: comma-separated subset of "
                                                  "actions,minutes,plan,propose,facts"),
              base: str = typer.Option(None, help="Evaluate a running server at this URL instead of in-process"),
              token: str = typer.Option(None, help="Sent as 'Authorization: Bearer TOKEN'"),
              k: int = typer.Option(5, "--k", "-k", min=1, max=100, help="Search results scored per question"),
              lang: str = typer.Option("both", help="sq, en or both"),
              timeout: float = typer.Option(120, help="Seconds per request with --base"),
              as_json: bool = typer.Option(False, "--json", help="Print the results as JSON")):
        """Measure search, answers and extraction with the shared harness's metrics."""
        if (questions is None) == (extract is None):
            typer.echo("error: give a question set (QUESTIONS.jsonl) or --extract DIR, one of the two", err=True)
            raise typer.Exit(2)
        if extract is not None:
            _eval_extract(extract, only, base, token, timeout, as_json)
        else:
            if lang not in LANGS:
                typer.echo("error: --lang takes sq, en or both", err=True)
                raise typer.Exit(2)
            _eval_questions(questions, base, token, k, LANGS[lang], timeout, as_json)


def _eval_questions(path: Path, base, token, k: int, langs, timeout: float, as_json: bool) -> None:
    from assistant.evaluation.qa import http_callables, load_questions, run_qa, summarize

    items = load_questions(path)
    if base:
        search, ask = http_callables(base, token, timeout)
    else:
        from assistant.core.settings import get_settings
        from web.app import build_services

        services = build_services(get_settings())
        if not services.store.list_documents():
            typer.echo("warning: no documents in the data folder; run `kvsp ingest corpus/` first", err=True)
        search, ask = inprocess_qa(services)
    run = run_qa(items, search, ask, k=k, langs=langs)
    summary = summarize(run, k=k, langs=langs)
    if as_json:
        typer.echo(json.dumps({"summary": summary, "rows": run.rows, "errors": run.errors}, ensure_ascii=False,
                              indent=1))
    else:
        print_qa(summary, run.rows, run.errors, langs, k)


def _eval_extract(folder: Path, only: str | None, base, token, timeout: float, as_json: bool) -> None:
    from assistant.evaluation.extract import TASKS, run_extract

    tasks = [t.strip() for t in (only or ",".join(TASKS)).split(",") if t.strip()]
    if not tasks or set(tasks) - set(TASKS):
        typer.echo(f"error: --only takes a comma-separated subset of {','.join(TASKS)}", err=True)
        raise typer.Exit(2)
    if not any(folder.glob("*.gold.json")):
        typer.echo(f"error: no *.gold.json files in {folder}", err=True)
        raise typer.Exit(2)
    with _client(base, token, timeout) as client:
        if base:
            _check_reachable(client, base)
        result = run_extract(folder, client, tasks)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_extract(result, folder)
