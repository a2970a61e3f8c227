"""The monolith's one database: sessions on ``service_runtime.database``, and explicit
schema migration.

SQLite by default, PostgreSQL via ``DATABASE_URL``. The schema is created by Alembic
(``python -m legacy_monolith migrate``, or at process start), never by a request.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from service_runtime import database
from service_runtime.database import normalise_url

_MIGRATIONS = Path(__file__).parent / "migrations"


class Database(database.Database):
    """Owns the engine and hands out sessions (``session()``); one per application."""

    def migrate(self) -> None:
        """Bring the schema to the newest revision."""
        command.upgrade(alembic_config(self.url), "head")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config
