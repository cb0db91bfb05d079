"""`kvsp db migrate-to-postgres`: move an embedded data folder into PostgreSQL."""
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.core.settings import get_settings


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database maintenance.", no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command("migrate-to-postgres")
    def migrate_to_postgres(
            data_dir: Path | None = typer.Option(None, "--data-dir", help="The SQLite data folder [KVSP_DATA_DIR]."),
            database_url: str | None = typer.Option(None, "--database-url",
                                                    help="postgresql://… of an empty database with pgvector "
                                                         "[KVSP_DATABASE_URL].")):
        """Copy documents, versions, chunks with their vectors, artifacts, accounts (users, tokens,
        sessions), the audit log and the plan into PostgreSQL, keeping their ids. Original files stay
        in DATA_DIR/files: run the server with the same KVSP_DATA_DIR."""
        import psycopg

        from assistant.store.migrate_sqlite import copy_sqlite_to_postgres

        settings = get_settings()
        data_dir = data_dir or settings.data_dir
        database_url = database_url or settings.database_url
        if not database_url:
            typer.echo("error: give --database-url or set KVSP_DATABASE_URL", err=True)
            raise typer.Exit(2)
        err = Console(stderr=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            tasks: dict[str, int] = {}

            def progress(table: str, done: int, total: int) -> None:
                if table not in tasks:
                    tasks[table] = bar.add_task(table, total=total)
                bar.update(tasks[table], completed=done)

            try:
                counts = copy_sqlite_to_postgres(data_dir, database_url, progress=progress)
            except (ValueError, OSError, psycopg.Error) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
        typer.echo(", ".join(f"{n} {table}" for table, n in counts.items()) + " copied to PostgreSQL")
