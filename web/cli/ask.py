"""`kvsp ask "…"`: the answer and its numbered sources, as text or as the /api/ask JSON."""
import json

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(question: str = typer.Argument(..., help="The question, in Albanian or English"),
            as_json: bool = typer.Option(False, "--json", help="Print the /api/ask response as JSON"),
            k: int = typer.Option(10, "-k", min=1, max=20, help="Passages to retrieve")):
        """Answer a question from the ingested documents, citing the passages."""
        from assistant.answers import service as answer
        from assistant.core.settings import get_settings
        from web.app import build_services
        from web.i18n import translator

        result, artifact_id = answer.ask(build_services(get_settings()), question, k=k, producer="cli")
        if as_json:
            typer.echo(json.dumps({**result.public(), "artifact_id": artifact_id}, ensure_ascii=False, indent=1))
            return
        t = translator(result.lang)
        typer.echo(result.answer)
        if result.citations:
            typer.echo(f"\n{t('chat.see_also' if result.abstained else 'chat.sources')}:")
        for c in result.citations:
            typer.echo(f"[{c.n}] {c.title}, {t('page')} {c.page}: “{' '.join(c.quote.split())}”")
        typer.echo(f"\n({result.backend}; trace: {artifact_id})")
