"""`kvsp minutes NOTES.txt -o draft.docx` and `kvsp actions FILE`: the same assistant/ code as the routes,
offline, no data folder needed."""
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)


def minutes(notes: Path = typer.Argument(..., exists=True, dir_okay=False, help="the secretary's notes (.txt)"),
            output: Path = typer.Option(None, "-o", "--output", help="write the draft as a Word file here"),
            as_json: bool = typer.Option(False, "--json", help="print meeting, actions and draft as JSON")):
    """Draft a procesverbal from a secretary's notes."""
    from assistant.meetings.minutes import draft_docx, prepare
    from assistant.meetings.polish import polish_draft
    from assistant.core.settings import get_settings

    text = notes.read_text(encoding="utf-8")
    meeting, actions, draft = prepare(text)
    draft = polish_draft(get_settings(), text, draft)  # offline draft unless KVSP_LLM_URL is set
    if output:
        output.write_bytes(draft_docx(meeting, actions))
        err.print(f"wrote {output}")
    if as_json:
        json.dump({"meeting": meeting.to_dict(), "actions": [a.to_dict() for a in actions], "draft": draft},
                  sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif not output:
        console.print(draft["text"], markup=False, highlight=False)


def actions(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="notes or minutes: .txt, .docx, .pdf"),
            as_json: bool = typer.Option(False, "--json", help="print the items as JSON")):
    """List the action items (what, who, by when) of notes or minutes."""
    from assistant.meetings.actions import extract_actions

    data = file.read_bytes()
    if file.suffix.lower() in (".txt", ".md"):
        text, tables = data.decode("utf-8"), None
    else:
        from ingest.dispatch import parse_file
        from ingest.model import IngestError

        try:
            doc = parse_file(file.name, data)
        except IngestError as exc:
            err.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from None
        text, tables = doc.text, doc.tables
    items = [a.to_dict() for a in extract_actions(text, tables=tables)]
    if as_json:
        json.dump({"items": items}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    table = Table(title=f"{file.name}: {len(items)}")
    for col in ("#", "action", "owner", "due", "as written"):
        table.add_column(col)
    for i, item in enumerate(items, 1):
        table.add_row(str(i), item["action"], ", ".join(item["owner"]), item["due"] or "", item["due_text"] or "")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the `minutes` and `actions` commands to the `kvsp` app."""
    app.command("minutes")(minutes)
    app.command("actions")(actions)
