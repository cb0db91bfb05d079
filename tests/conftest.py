"""Session fixtures: the embedding model is loaded and the bundled corpus ingested once per run."""
import os
from pathlib import Path

import pytest

from tests.pg_fixture import pg_server, pg_url  # noqa: F401  (one PostgreSQL server per run)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Starlette's TestClient calls the app by the name "testserver": the test deployment serves it.
os.environ.setdefault("KVSP_ALLOWED_HOSTS", "testserver")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = FIXTURES / "samples"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def ingested_settings(tmp_path_factory):
    """Settings of a data folder holding the ingested bundled corpus (shared, read-mostly)."""
    from assistant.core.settings import Settings

    return Settings(data_dir=tmp_path_factory.mktemp("data"), corpus_dir=CORPUS)


@pytest.fixture(scope="session")
def services(ingested_settings):
    from assistant.core.ingestion import ingest_bytes, iter_files
    from web.app import build_services

    svc = build_services(ingested_settings)
    for path in iter_files([CORPUS]):
        ingest_bytes(svc, path.name, path.read_bytes())
    svc.stop_workers()  # the worker's models leave with it; a later upload starts a fresh one
    return svc


@pytest.fixture(scope="session")
def app(services):
    from web.app import create_app

    return create_app(services.settings, services)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def serving(app):
    """`app` behind a real HTTP server on a free port, as a generator of its URL (for fixtures)."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_url(app):
    """The session's app behind a real HTTP server (for browsers and HTTP harnesses)."""
    yield from serving(app)


@pytest.fixture()
def fresh_url(fresh_app):
    """An app over an empty data folder behind a real HTTP server (for browser tests that write)."""
    yield from serving(fresh_app)


SCREENS = {"desk": (1366, 768), "phone": (390, 844)}  # the sizes the pages are tried at
CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium; never a browser downloaded by a test tool
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the page tests, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def fresh_services(tmp_path, services):
    """An empty data folder sharing the session's loaded embedder (for tests that write)."""
    from assistant.search.retrieve import Retriever
    from assistant.core.services import Services
    from assistant.core.settings import Settings
    from assistant.store import open_store

    settings = Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)
    store = open_store(settings)
    svc = Services(settings=settings, store=store, embedder=services.embedder,
                   retriever=Retriever(store, services.embedder))
    yield svc
    svc.stop_workers()
    store.close()


@pytest.fixture()
def fresh_app(fresh_services):
    """The real app over an empty data folder (for tests that write: accounts, uploads, audit)."""
    from web.app import create_app

    return create_app(fresh_services.settings, fresh_services)


@pytest.fixture()
def page(browser, request):
    """A fresh page that records script errors and dialogs. A test may expect a confirm by its text
    (`page.expected_dialogs`): those are accepted and kept in `page.dialogs`; any other is a problem.
    The window is 1200x900 unless the test asks for a size (parametrized `page` with `indirect=True`)."""
    width, height = getattr(request, "param", (1200, 900))
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    page.problems, page.dialogs, page.expected_dialogs = [], [], ()

    def on_dialog(d):
        if any(text in d.message for text in page.expected_dialogs):
            page.dialogs.append(d.message)
            d.accept()
        else:
            page.problems.append(f"dialog: {d.message}")
            d.dismiss()

    page.on("pageerror", lambda e: page.problems.append(f"script error: {e}"))
    page.on("dialog", on_dialog)
    yield page
    page.close()
    assert not page.problems
