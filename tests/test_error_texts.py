"""Every error a page can show is in the page's language: each code the code raises (IngestError in
ingest/, ApiError and PlanError in web/ and assistant/, a failed job) has a text in both languages,
and no page script puts an API error's own message (English for scripts and logs) on the screen."""
import ast
import re

import pytest

from tests.conftest import ROOT
from web.i18n import ERROR_KEYS, error_texts, messages

RAISERS = {"IngestError": 0, "ApiError": 1, "PlanError": 0}  # the argument that holds the code


def raised_codes() -> set[str]:
    codes = set()
    for top in ("ingest", "assistant", "web"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in RAISERS:
                    arg = node.args[RAISERS[node.func.id]] if len(node.args) > RAISERS[node.func.id] else None
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        codes.add(arg.value)
                elif isinstance(node, ast.Dict):  # a failed job's {"code": ...}
                    for key, value in zip(node.keys, node.values):
                        if isinstance(key, ast.Constant) and key.value == "code" and isinstance(value, ast.Constant):
                            codes.add(value.value)
    return codes


def test_every_raised_code_has_a_page_text_in_both_languages():
    codes = raised_codes()
    assert {"zip_bomb", "encrypted_pdf", "too_slow", "not_found", "notes_changed"} <= codes  # the walk found them
    assert codes - set(ERROR_KEYS) == set()
    for code, key in ERROR_KEYS.items():
        entry = messages()[key]
        assert entry["sq"] and entry["en"] and entry["sq"] != entry["en"], code
    assert error_texts("sq")["zip_bomb"] != error_texts("sq")["corrupt_docx"]  # a bomb is not "damaged"


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "web" / "static").glob("*.js")))
def test_no_page_shows_an_api_errors_own_message(script):
    text = (ROOT / "web" / "static" / script).read_text(encoding="utf-8")
    if script == "common.js":  # where an ApiError is made from the response: its message is kept, not shown
        text = re.sub(r"throw new ApiError\([^;]+;", "", text)
    assert not re.search(r"\b(e|err|error|exc)\.message\b", text)
