"""The monolith's one ``Settings``: environment variables with the ``MONOLITH_`` prefix.

The common names ``PORT`` and ``DATABASE_URL`` are honoured as well (DESIGN section 7), so
the runner, the containers and the tests configure every deployable the same way.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEFAULT_VAR = Path("var") / "monolith"


class Settings(BaseSettings):
    """Configuration of one monolith process."""

    model_config = SettingsConfigDict(env_prefix="MONOLITH_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=5000, validation_alias=AliasChoices("MONOLITH_PORT", "PORT"))
    database_url: str = Field(
        default=f"sqlite:///{_DEFAULT_VAR / 'monolith.db'}",
        validation_alias=AliasChoices("MONOLITH_DATABASE_URL", "DATABASE_URL"),
    )
    model_dir: Path = Field(default=_DEFAULT_VAR / "models")
    min_training_rows: int = Field(default=200, ge=10)
    migrate_on_start: bool = True
    log_json: bool = True
    log_level: str = "INFO"
    torch_threads: int = Field(default=1, ge=1)
    #: gunicorn worker processes (each with ``threads`` threads). Each loads the serving
    #: model and follows promotions through the database; ``/metrics`` answers from the
    #: worker that took the scrape.
    workers: int = Field(default=1, ge=1, le=32)
    threads: int = Field(default=8, ge=1, le=64)
