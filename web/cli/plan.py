"""`kvsp plan extract FILE [--json]`: the plan table of a file, parsed on the spot (nothing stored)."""
import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    plan = typer.Typer(help="The council's plan table.", no_args_is_help=True)

    @plan.command("extract")
    def extract(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON.")):
        """Extract the plan rows (Nr, Problematika, Prioriteti, Aktivitetet, Institucioni, Afati) of FILE."""
        from rich.console import Console
        from rich.table import Table

        from assistant.plan.extract import extract_plan
        from ingest.dispatch import parse_file
        from ingest.model import IngestError

        try:
            doc = parse_file(file.name, file.read_bytes())
        except IngestError as e:
            typer.echo(f"{file}: {e.message}", err=True)
            raise typer.Exit(2) from None
        doc.meta.setdefault("filename", file.name)
        rows = [r.to_dict() for r in extract_plan(doc)]
        if as_json:
            typer.echo(json.dumps({"rows": rows}, ensure_ascii=False, indent=1))
            return
        table = Table("Nr", "Problematika", "Prioriteti", "Aktivitetet", "Institucioni përgjegjës", "Afati",
                      show_lines=True)
        for r in rows:
            table.add_row(r["nr"], r["problem"], r["priority_as_written"] or "", "\n".join(r["activities"]),
                          "\n".join(r["responsible"] + [f"({p})" for p in r["partners"]]), r["deadline_text"] or "")
        Console().print(table)
        if not rows:
            typer.echo("no plan table found", err=True)
            raise typer.Exit(1)

    app.add_typer(plan, name="plan")
