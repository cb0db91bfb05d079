"""The optional LLM backend: any OpenAI-compatible chat-completions server (Ollama, llama.cpp,
vLLM, a hosted API), configured by `KVSP_LLM_URL`, `KVSP_LLM_MODEL`, `KVSP_LLM_API_KEY`.

`chat` is the one client every job shares; it returns None on any failure so callers fall
back to their offline path. `prompts` loads the jinja2 templates of prompts/.
"""
import json
import logging
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from assistant.core.settings import Settings

log = logging.getLogger(__name__)
PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@lru_cache
def prompts() -> Environment:
    return Environment(loader=FileSystemLoader(PROMPTS), undefined=StrictUndefined, autoescape=False,
                       keep_trailing_newline=True)


def chat(settings: Settings, messages: list[dict], temperature: float = 0.0) -> str | None:
    """The assistant message's text from `settings.llm_url`, or None on timeout, error or an
    empty reply (the caller then answers offline)."""
    if not settings.llm_url:
        return None
    body = json.dumps({"model": settings.llm_model, "messages": messages, "temperature": temperature,
                       "stream": False}).encode()
    req = urllib.request.Request(settings.llm_url.rstrip("/") + "/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    if settings.llm_api_key:
        req.add_header("Authorization", f"Bearer {settings.llm_api_key}")
    try:
        with urllib.request.urlopen(req, timeout=settings.llm_timeout) as resp:
            reply = json.loads(resp.read().decode("utf-8"))
        text = reply["choices"][0]["message"]["content"]
    except (OSError, urllib.error.URLError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.warning("LLM call failed, answering offline: %s", exc)
        return None
    return text.strip() if isinstance(text, str) and text.strip() else None
