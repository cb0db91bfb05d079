"""`kvsp eval` scores what the shared harness scores: the dev question set in-process agrees with
run_qa.py against the served product, and extraction agrees with run_extract.py on a sample."""
import json
import shutil
import socket
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from tests.conftest import FIXTURES, SAMPLES

EVAL = FIXTURES / "eval"
QUESTIONS = EVAL / "qa-dev.jsonl"
NOTES_SAMPLE = "shenime-sekretari-gurras-2024-11-07.txt"


def kvsp_eval(args: list[str], data_dir) -> dict:
    """`kvsp eval … --json` in this process, on the given data folder."""
    from assistant.core.settings import get_settings
    from web.cli import evaluate as cli_eval

    app = typer.Typer()
    app.callback()(lambda: None)  # a command group, so that `eval` is named as on the real CLI
    cli_eval.register(app)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["eval", *args, "--json"], env={"KVSP_DATA_DIR": str(data_dir)})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def harness(script: str, *args: str) -> str:
    out = subprocess.run([sys.executable, str(EVAL / script), *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_question_eval_agrees_with_run_qa(services, live_url, tmp_path):
    ours = kvsp_eval([str(QUESTIONS)], services.settings.data_dir)
    harness("run_qa.py", str(QUESTIONS), "--base", live_url, "--json", str(tmp_path / "qa.json"))
    shared = json.loads((tmp_path / "qa.json").read_text())
    assert ours["errors"] == [] and shared["summary"]["errors"] == 0
    for lang in ("sq", "en"):
        assert ours["summary"][lang]["n_answerable"] == 26
        assert ours["summary"][lang] == shared["summary"][lang], lang
    assert [(r["id"], r["lang"], r["rank"]) for r in ours["rows"]] == \
        [(r["id"], r["lang"], r["rank"]) for r in shared["rows"]]


def test_extraction_eval_agrees_with_run_extract(services, live_url, tmp_path):
    folder = tmp_path / "samples"
    folder.mkdir()
    for name in (NOTES_SAMPLE, NOTES_SAMPLE + ".gold.json"):
        shutil.copy(SAMPLES / name, folder / name)
    ours = kvsp_eval(["--extract", str(folder), "--only", "actions,minutes"], services.settings.data_dir)
    shared = json.loads(harness("run_extract.py", "--dir", str(folder), "--base", live_url,
                                "--only", "actions,minutes", "--json", "-"))
    assert ours["summary"]["actions"]["gold"] > 0 and ours["summary"]["minutes"]["files"] == 1
    assert ours["errors"] == shared["errors"] == []
    assert ours["summary"] == shared["summary"]
    assert ours["files"] == shared["files"]


def test_eval_against_base_url_matches_in_process(services, live_url):
    """`--base` scores the served product with the same code: same ranks as in-process."""
    from assistant.evaluation.qa import http_callables, load_questions, run_qa
    from web.cli.evaluate import inprocess_qa

    items = load_questions(QUESTIONS)[:6]
    over_http = run_qa(items, http_callables(live_url)[0], None)
    in_process = run_qa(items, inprocess_qa(services)[0], None)
    assert [r["rank"] for r in over_http.rows] == [r["rank"] for r in in_process.rows]
    assert any(r["rank"] for r in in_process.rows)


def test_eval_refuses_an_unreachable_server(tmp_path):
    from web.cli import evaluate as cli_eval

    app = typer.Typer()
    app.callback()(lambda: None)
    cli_eval.register(app)
    shutil.copy(SAMPLES / NOTES_SAMPLE, tmp_path / NOTES_SAMPLE)
    shutil.copy(SAMPLES / (NOTES_SAMPLE + ".gold.json"), tmp_path / (NOTES_SAMPLE + ".gold.json"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    result = CliRunner().invoke(app, ["eval", "--extract", str(tmp_path), "--base", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 2
    assert "unreachable" in result.output
