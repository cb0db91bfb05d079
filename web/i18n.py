"""UI text in Albanian (default) and English, kept as data in web/i18n.json; and the text a page
shows for each error code of the API (its `message` is for scripts and logs, often in English)."""
import json
from functools import lru_cache
from pathlib import Path

LANGS = ("sq", "en")


@lru_cache
def messages() -> dict[str, dict[str, str]]:
    return json.loads((Path(__file__).parent / "i18n.json").read_text(encoding="utf-8"))


def translator(lang: str):
    lang = lang if lang in LANGS else LANGS[0]

    def t(key: str) -> str:
        entry = messages().get(key)
        return entry.get(lang) or entry.get("sq") if entry else key

    return t


# Every code an API error or a failed job can carry, and the text a page shows for it. A code not
# listed shows "other"; tests/test_error_texts.py finds every code the code raises in this table.
ERROR_KEYS = {
    "unsupported_type": "doc.error.unsupported_type", "corrupt_pdf": "doc.error.corrupt",
    "corrupt_docx": "doc.error.corrupt", "zip_bomb": "doc.error.zip_bomb", "encrypted_pdf": "doc.error.encrypted_pdf",
    "empty_file": "doc.error.empty_file", "no_text": "doc.error.no_text", "ocr_failed": "doc.error.ocr_failed",
    "ocr_unavailable": "doc.error.ocr_unavailable", "too_large": "doc.error.too_large",
    "too_slow": "doc.error.too_slow", "too_costly": "doc.error.too_costly",
    "worker_failed": "doc.error.worker_failed", "busy": "doc.error.busy",
    "forbidden": "error.forbidden", "unauthorized": "error.unauthorized", "csrf_failed": "error.csrf_failed",
    "too_many_attempts": "error.too_many_attempts", "not_found": "error.not_found",
    "invalid_request": "error.invalid_request", "invalid": "error.invalid_request",
    "empty_question": "error.empty_question", "conflict": "error.conflict", "notes_changed": "error.notes_changed",
    "method_not_allowed": "doc.error.other", "http_error": "doc.error.other", "internal_error": "error.internal",
    "network": "error.network", "other": "doc.error.other",
}


def error_texts(lang: str) -> dict[str, str]:
    """{code: the text a page shows for it} in `lang`."""
    t = translator(lang)
    return {code: t(key) for code, key in ERROR_KEYS.items()}
