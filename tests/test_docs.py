"""The README documents every setting and every CLI command (it fails when they drift)."""
from assistant.core.settings import Settings
from tests.conftest import ROOT


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    text = readme()
    missing = [name for name in Settings.model_fields if f"KVSP_{name.upper()}" not in text]
    assert not missing, f"settings missing from README: {missing}"


def test_every_cli_command_is_documented():
    import typer.main

    from web.cli.main import app

    group = typer.main.get_group(app)
    text = readme()
    names = []
    for name, command in group.commands.items():
        subs = getattr(command, "commands", None)
        names += [f"kvsp {name} {sub}" for sub in subs] if subs else [f"kvsp {name}"]
    missing = [n for n in names if n not in text]
    assert not missing, f"commands missing from README: {missing}"


def test_readme_starts_with_the_two_commands_ci_runs():
    text = readme()
    ci = (ROOT / ".ci" / "run").read_text()
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    setup, tests = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert setup.startswith("bash .ci/setup") and "kvsp serve" in setup
    assert tests in ci and "bash .ci/setup" in ci
