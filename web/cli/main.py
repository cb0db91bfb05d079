"""The `kvsp` command line: as thin as the HTTP routes, calling the same assistant/ code."""
import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.core.settings import get_settings

app = typer.Typer(help="KVSP assistant: cited answers over the council's documents.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def services():
    from web.app import build_services

    return build_services(get_settings())


def ingest_paths(svc, paths: list[Path]) -> list[tuple[str, str, object]]:
    """Ingest files with a progress bar; returns (file, status, document-or-error) per file."""
    from assistant.core.ingestion import ingest_bytes, iter_files
    from ingest.model import IngestError

    rows = []
    files = iter_files(paths)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        overall = bar.add_task("ingest", total=len(files))
        stage = bar.add_task("", total=1, visible=False)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(stage, description=f"  {name}", completed=done, total=max(total, 1), visible=True)

        for path in files:
            bar.update(overall, description=f"ingest {path.name}")
            try:
                result = ingest_bytes(svc, path.name, path.read_bytes(), progress=progress)
                rows.append((path.name, result.status, result.document))
            except (IngestError, OSError) as exc:
                rows.append((path.name, "error", getattr(exc, "message", str(exc))))
            bar.update(stage, visible=False)
            bar.advance(overall)
    return rows


def print_ingest_summary(rows) -> None:
    table = Table(title="Ingest")
    for col in ("file", "status", "title", "kind", "pages", "chunks"):
        table.add_column(col)
    for name, status, doc in rows:
        if status == "error":
            table.add_row(name, "[red]error[/red]", str(doc), "", "", "")
        else:
            table.add_row(name, status, doc.title, doc.kind, str(doc.pages), str(doc.chunks))
    console.print(table)
    skipped = sum(1 for r in rows if r[1] == "unchanged")
    failed = sum(1 for r in rows if r[1] == "error")
    console.print(f"{len(rows) - skipped - failed} ingested, {skipped} unchanged (skipped), {failed} failed")


@app.command()
def ingest(paths: list[Path] = typer.Argument(..., help="Files or folders (PDF, DOCX, TXT, MD)")):
    """Ingest files into the index; unchanged files are skipped."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err.print(f"error: no such file or folder: {', '.join(missing)}")
        raise typer.Exit(2)
    rows = ingest_paths(services(), paths)
    print_ingest_summary(rows)
    if any(r[1] == "error" for r in rows):
        raise typer.Exit(1)


@app.command()
def search(query: str, k: int = typer.Option(5, "-k"), kind: str = typer.Option(None, help="Filter by document kind"),
           as_json: bool = typer.Option(False, "--json")):
    """Hybrid search over the stored passages."""
    from web.routes.search import search_results

    results = search_results(services(), query, k, kind)
    if as_json:
        print(json.dumps({"results": results}, ensure_ascii=False, indent=1))
        return
    for i, r in enumerate(results, 1):
        console.print(f"[bold]{i}. {r['title']}[/bold] — page {r['page']} (score {r['score']})")
        console.print(r["text"][:400] + ("…" if len(r["text"]) > 400 else ""), markup=False)
        console.print()


@app.command()
def documents(as_json: bool = typer.Option(False, "--json")):
    """List stored documents."""
    docs = services().store.list_documents()
    if as_json:
        print(json.dumps({"documents": [d.public() for d in docs]}, ensure_ascii=False, indent=1))
        return
    table = Table()
    for col in ("id", "title", "kind", "pages", "chunks", "version"):
        table.add_column(col)
    for d in docs:
        table.add_row(d.id, d.title, d.kind, str(d.pages), str(d.chunks), str(d.version))
    console.print(table)


def _has_documents(settings) -> bool:
    from assistant.store import open_store

    store = open_store(settings)
    try:
        return bool(store.list_documents())
    finally:
        store.close()


@app.command()
def serve(host: str = typer.Option(None), port: int = typer.Option(None)):
    """Serve the chat page and the API; ingests the bundled corpus on first start."""
    import uvicorn

    from web.app import create_app

    from assistant.accounts.auth import local_mode
    from assistant.store import open_database

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if local_mode(open_database(settings)) and host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"error: no accounts yet (local single-user mode), so the app listens on 127.0.0.1 only, "
                  f"not {host}. Create an admin first: kvsp users add NAME --role admin")
        raise typer.Exit(2)
    first_start = settings.corpus_dir.is_dir() and not _has_documents(settings)
    svc = services()
    if first_start:
        # Through the ingest worker like any upload: the bulk embedding model stays in that process.
        err.print(f"First start: ingesting {settings.corpus_dir} …")
        t0 = time.perf_counter()
        print_ingest_summary(ingest_paths(svc, [settings.corpus_dir]))
        svc.stop_workers()  # its memory goes back now, not after the idle time
        err.print(f"ready in {time.perf_counter() - t0:.0f} s")
    err.print(f"Serving on http://{host}:{port}  (API docs: /docs)")
    # The app reads X-Forwarded-* itself, and only with KVSP_TRUST_PROXY: uvicorn must not trust them first.
    uvicorn.run(create_app(settings, svc), host=host, port=port, log_level="warning", proxy_headers=False)


def _register_commands() -> None:
    from web.cli import admin as cli_admin
    from web.cli import ask as cli_ask
    from web.cli import db as cli_db
    from web.cli import evaluate as cli_eval
    from web.cli import minutes as cli_minutes
    from web.cli import plan as cli_plan

    for module in (cli_ask, cli_minutes, cli_plan, cli_admin, cli_db, cli_eval):
        module.register(app)


_register_commands()

if __name__ == "__main__":
    app()
