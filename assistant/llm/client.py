"""The optional LLM backend: any OpenAI-compatible chat-completions server (Ollama, llama.cpp,
vLLM, a hosted API), configured by `KVSP_LLM_URL`, `KVSP_LLM_MODEL`, `KVSP_LLM_API_KEY`.

`chat` is the one client every job shares; it returns None on any failure so callers fall
back to their offline path. Given `on_token`, it asks for the reply as a stream (OpenAI's
server-sent events, `stream: true`) and hands each piece of text to `on_token` as it arrives;
the return value is the same whole reply. `prompts` loads the jinja2 templates of prompts/.
"""
import json
import logging
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import httpx
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from assistant.core.settings import Settings

log = logging.getLogger(__name__)
PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@lru_cache
def prompts() -> Environment:
    return Environment(loader=FileSystemLoader(PROMPTS), undefined=StrictUndefined, autoescape=False,
                       keep_trailing_newline=True)


def chat(settings: Settings, messages: list[dict], temperature: float = 0.0,
         on_token: Callable[[str], None] | None = None) -> str | None:
    """The assistant message's text from `settings.llm_url`, or None on timeout, error or an
    empty reply (the caller then answers offline). `llm_timeout` bounds the whole reply, streamed
    or not. With `on_token`, pieces already handed over stay handed over when the call then fails:
    the caller decides what replaces them."""
    if not settings.llm_url:
        return None
    body = {"model": settings.llm_model, "messages": messages, "temperature": temperature,
            "stream": on_token is not None}
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    url = settings.llm_url.rstrip("/") + "/chat/completions"
    deadline = time.monotonic() + settings.llm_timeout
    try:
        with httpx.stream("POST", url, json=body, headers=headers, timeout=settings.llm_timeout) as resp:
            resp.raise_for_status()
            if on_token is None:
                text = json.loads(resp.read().decode("utf-8"))["choices"][0]["message"]["content"]
            else:
                text = "".join(_streamed(resp.iter_lines(), on_token, deadline))
    except (OSError, httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.warning("LLM call failed, answering offline: %s", exc)
        return None
    return text.strip() if isinstance(text, str) and text.strip() else None


def _streamed(lines: Iterable[str], on_token: Callable[[str], None], deadline: float):
    """The text pieces of an OpenAI chat-completions event stream (`data: {...}` lines up to
    `data: [DONE]`), each handed to `on_token` too. TimeoutError past `deadline`."""
    for raw in lines:
        if time.monotonic() > deadline:
            raise TimeoutError("the streamed reply took longer than llm_timeout")
        line = raw.strip()
        if not line.startswith("data:"):
            continue  # blank separators, comments (": keep-alive"), event names
        data = line[5:].strip()
        if data == "[DONE]":
            return
        piece = (json.loads(data)["choices"] or [{}])[0].get("delta", {}).get("content") or ""
        if not isinstance(piece, str):
            raise TypeError("a streamed delta whose content is not text")
        if piece:
            on_token(piece)
            yield piece
