"""The FastAPI application: services built once, one router per resource, one error shape."""
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from assistant.core.services import Services
from assistant.core.settings import Settings, get_settings
from web import errors, params, security
from web.throttle import LoginThrottle


def build_services(settings: Settings) -> Services:
    from assistant.search.albanian import normalisation_version
    from assistant.search.embedder import make_embedder
    from assistant.core.preparation import lexical_string
    from assistant.search.retrieve import Retriever
    from assistant.store import open_store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings)  # its database is migrated here, at start, never on a request
    store.ensure_lexical(normalisation_version(), lambda c: lexical_string(c.section, c.text))
    embedder = make_embedder(settings)
    return Services(settings=settings, store=store, embedder=embedder, retriever=Retriever(store, embedder))


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="KVSP assistant", version="0.1.0",
                  description="Cited answers, minutes, action items and plan rows over KVSP documents.",
                  dependencies=[Depends(security.verify_csrf)])
    app.state.settings = settings
    app.state.services = services or build_services(settings)
    app.state.login_throttle = LoginThrottle()
    errors.install(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    from web.routes import actions, audit, auth, chat, conversations, documents, jobs, minutes, plan, search

    for module in (chat, conversations, documents, jobs, search, minutes, actions, plan, audit):
        app.include_router(module.router)
    auth.install(app)  # login routes and the guard that denies by default
    app.add_middleware(params.StorableJson)
    # Added last, so it runs first: a forged Host or a foreign Origin never reaches the login guard.
    app.add_middleware(security.RequestGuard, settings=settings)
    return app
