"""`kvsp users …` (local accounts and API tokens) and `kvsp audit verify`."""
import getpass
import json
from enum import Enum

import typer

from assistant.accounts import audit
from assistant.accounts.auth import ROLES, AuthDb, AuthError, token_id_of
from assistant.core.settings import get_settings
from assistant.store import open_database


Role = Enum("Role", {role: role for role in ROLES}, type=str)


def _cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Local accounts and API tokens. The first account must be an admin; "
                             "it ends local single-user mode.", no_args_is_help=True)
    audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
    app.add_typer(users, name="users")
    app.add_typer(audit_app, name="audit")

    @users.command("add")
    def users_add(name: str,
                  role: Role = typer.Option(..., "--role", help="The user's role."),
                  password: str | None = typer.Option(None, "--password", help="Prompted for when absent.")):
        """Create an account."""
        if password is None:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        db = open_database(get_settings())
        try:
            user = AuthDb(db).add_user(name, role.value, password)
        except AuthError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        audit.record(db, _cli_actor(), "user.create", "user", name, {"role": role.value})
        typer.echo(f"created {user['name']} ({user['role']})")

    @users.command("token")
    def users_token(name: str):
        """Print a new API token for NAME (for scripts: `Authorization: Bearer <token>`)."""
        db = open_database(get_settings())
        try:
            token = AuthDb(db).new_token(name)
        except AuthError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        audit.record(db, _cli_actor(), "token.create", "user", name, {"token_id": token_id_of(token)})
        typer.echo(token)

    @users.command("tokens")
    def users_tokens(name: str, as_json: bool = typer.Option(False, "--json")):
        """List NAME's API tokens by id and date (a token itself is shown only when it is made)."""
        try:
            found = AuthDb(open_database(get_settings())).list_tokens(name)
        except AuthError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        if as_json:
            typer.echo(json.dumps(found))
            return
        for token in found:
            typer.echo(f"{token['id']}\tsince {token['created_at']}")

    @users.command("token-revoke")
    def users_token_revoke(name: str, token_id: str = typer.Argument(..., metavar="ID",
                                                                     help="The id `kvsp users tokens` lists, or the token.")):
        """Revoke one of NAME's API tokens."""
        db = open_database(get_settings())
        try:
            revoked = AuthDb(db).revoke_token(name, token_id)
        except AuthError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        audit.record(db, _cli_actor(), "token.revoke", "user", name, {"token_id": revoked})
        typer.echo(f"revoked {revoked}")

    @users.command("list")
    def users_list(as_json: bool = typer.Option(False, "--json")):
        """List the accounts."""
        found = AuthDb(open_database(get_settings())).list_users()
        if as_json:
            typer.echo(json.dumps(found, ensure_ascii=False))
            return
        for user in found:
            typer.echo(f"{user['name']}\t{user['role']}\t{user['tokens']} token(s)\tsince {user['created_at']}")

    @audit_app.command("verify")
    def audit_verify(as_json: bool = typer.Option(False, "--json"),
                     head: str | None = typer.Option(None, "--head", help="A head hash noted earlier (audit page, "
                                                                          "an export): it must still be in the log.")):
        """Recompute the keyed hash chain; exit 1 and list the bad entries when it is broken."""
        db = open_database(get_settings())
        problems = audit.verify(db, head)
        last = audit.head(db)
        if as_json:
            typer.echo(json.dumps({"ok": not problems, "entries": last["id"] if last else 0,
                                   "head": last["hash"] if last else audit.GENESIS,
                                   "problems": [p.public() for p in problems]}))
        elif problems:
            for problem in problems:
                typer.echo(f"{problem.kind}: {problem.message}")
            typer.echo("bad entries: " + " ".join(str(i) for i in sorted({p.entry_id for p in problems})))
        else:
            typer.echo(f"ok: {last['id'] if last else 0} entries, head {last['hash'] if last else audit.GENESIS}")
        if problems:
            raise typer.Exit(1)
