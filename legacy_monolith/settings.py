"""The monolith's one ``Settings``: environment variables with the ``MONOLITH_`` prefix.

The common names ``PORT``, ``DATABASE_URL`` and ``LOG_LEVEL`` are honoured as well
(``service_runtime.settings``), so the runner, the containers and the tests configure every
deployable the same way.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from service_runtime.settings import ServiceSettings

_DEFAULT_VAR = Path("var") / "monolith"


class Settings(ServiceSettings):
    """Configuration of one monolith process."""

    model_config = SettingsConfigDict(env_prefix="MONOLITH_", extra="ignore")

    port: int = 5000
    database_url: str = f"sqlite:///{_DEFAULT_VAR / 'monolith.db'}"
    model_dir: Path = Field(default=_DEFAULT_VAR / "models")
    min_training_rows: int = Field(default=200, ge=10)
    migrate_on_start: bool = True
    torch_threads: int = Field(default=1, ge=1)
    #: gunicorn worker processes (each with ``threads`` threads). Each loads the serving
    #: model and follows promotions through the database; ``/metrics`` answers from the
    #: worker that took the scrape.
    workers: int = Field(default=1, ge=1, le=32)
    threads: int = Field(default=8, ge=1, le=64)
