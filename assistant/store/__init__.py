"""Store backends behind one interface (see base.py); `open_store` picks one from the settings."""
from assistant.core.settings import Settings


def open_store(settings: Settings):
    if settings.database_url:
        from assistant.store.postgres import PostgresStore

        return PostgresStore(settings.database_url, settings.data_dir)
    from assistant.store.sqlite import SqliteStore

    return SqliteStore(settings.data_dir)


def open_database(settings: Settings):
    """The database of accounts, the audit log and the plan without opening the whole store (for
    a CLI command): the data folder's SQLite file, or the PostgreSQL of KVSP_DATABASE_URL."""
    if settings.database_url:
        from assistant.store.pg_database import PostgresDatabase

        return PostgresDatabase.open(settings.database_url, settings.data_dir)
    from assistant.store.database import DB_FILE, open_database as open_sqlite

    return open_sqlite(settings.data_dir / DB_FILE)
