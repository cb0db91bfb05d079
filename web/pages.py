"""Jinja2 environment for the pages: language from ?lang= or the `lang` cookie, Albanian by default."""
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from web.i18n import LANGS, error_texts, translator
from web.security import page_csrf_token

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["csrf_token"] = page_csrf_token  # every page carries its session's token


def page_lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang") or LANGS[0]
    return lang if lang in LANGS else LANGS[0]


def render(request: Request, name: str, **context):
    lang = page_lang(request)
    response = templates.TemplateResponse(
        request, name, {"lang": lang, "t": translator(lang), "other_lang": "en" if lang == "sq" else "sq",
                        "error_texts": error_texts(lang),
                        "local_mode": getattr(request.app.state, "local_mode", True), **context})
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("lang", lang, samesite="lax")
    return response
