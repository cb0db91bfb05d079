"""The `kvsp` doors for documents: ingest (summary, unchanged, errors), documents, search, serve's guard."""
import json

import pytest
from typer.testing import CliRunner

from assistant.core.settings import get_settings
from tests.conftest import SAMPLES


@pytest.fixture()
def kvsp(tmp_path, monkeypatch, services):
    """Run `kvsp …` on an empty data folder that reuses the session's built embedding model."""
    from web.cli.main import app

    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to((services.settings.data_dir / "models").resolve(), target_is_directory=True)
    monkeypatch.setenv("KVSP_DATA_DIR", str(data))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_ingest_twice_then_list_and_search(kvsp, tmp_path):
    notes = SAMPLES / "shenime-konsultim-publik-lumez-2025-01.txt"
    first = kvsp("ingest", str(notes))
    assert first.exit_code == 0, first.output
    assert "1 ingested" in first.output
    again = kvsp("ingest", str(notes))
    assert again.exit_code == 0 and "1 unchanged" in again.output

    listed = json.loads(kvsp("documents", "--json").output)["documents"]
    assert len(listed) == 1 and listed[0]["chunks"] > 0

    found = json.loads(kvsp("search", "ndriçimi i rrugës pranë shkollës", "-k", "3", "--json").output)["results"]
    assert found and found[0]["document_id"] == listed[0]["id"]
    assert all(r["text"] for r in found)


def test_bad_file_is_one_clear_line_and_a_failing_exit(kvsp, tmp_path):
    bad = tmp_path / "prishur.pdf"
    bad.write_bytes(b"%PDF-1.4 not really")
    result = kvsp("ingest", str(bad))
    assert result.exit_code == 1
    assert "error" in result.output and "Traceback" not in result.output
    missing = kvsp("ingest", str(tmp_path / "nuk-ekziston.docx"))
    assert missing.exit_code == 2


def test_serve_refuses_a_public_host_in_local_mode(kvsp):
    result = kvsp("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert "127.0.0.1" in result.output
