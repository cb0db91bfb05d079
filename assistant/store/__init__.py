"""Store backends behind one interface (see base.py); `open_store` picks one from the settings."""
from assistant.core.settings import Settings


def open_store(settings: Settings):
    if settings.database_url:
        from assistant.store.postgres import PostgresStore

        return PostgresStore(settings.database_url, settings.data_dir)
    from assistant.store.sqlite import SqliteStore

    return SqliteStore(settings.data_dir)
