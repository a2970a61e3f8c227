"""The ingestion service's one ``Settings``: ``INGESTION_*`` variables, plus the common
names ``PORT``, ``DATABASE_URL`` and ``AMQP_URI`` (DESIGN section 7)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventbus import DEFAULT_AMQP_URI

_DEFAULT_DB = Path("var") / "ingestion" / "ingestion.db"


class Settings(BaseSettings):
    """Configuration of one ingestion process."""

    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8101, validation_alias=AliasChoices("INGESTION_PORT", "PORT"))
    database_url: str = Field(
        default=f"sqlite:///{_DEFAULT_DB}",
        validation_alias=AliasChoices("INGESTION_DATABASE_URL", "DATABASE_URL"),
    )
    amqp_uri: str = Field(
        default=DEFAULT_AMQP_URI, validation_alias=AliasChoices("INGESTION_AMQP_URI", "AMQP_URI")
    )
    #: Same limit as the monolith (its Flask MAX_CONTENT_LENGTH): larger bodies get a 413.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    #: Refuse new batches (503) once the broker has been unreachable this long ...
    broker_grace_s: float = Field(default=2.0, ge=0)
    #: ... or once this many events wait in the outbox.
    max_outbox_backlog: int = Field(default=10_000, ge=1)
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_interval_s: float = Field(default=0.5, gt=0)
    confirm_timeout_s: float = Field(default=10.0, gt=0)
    connect_timeout_s: float = Field(default=3.0, gt=0)
    log_json: bool = True
    log_level: str = "INFO"
