"""UI text in Albanian (default) and English, kept as data in web/i18n.json."""
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
