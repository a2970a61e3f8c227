"""The ingestion service's one ``Settings``: ``INGESTION_*`` variables, plus the common
names ``PORT``, ``DATABASE_URL``, ``AMQP_URI`` and ``LOG_LEVEL`` (``service_runtime.settings``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventbus import DEFAULT_AMQP_URI
from service_runtime.settings import ServiceSettings

_DEFAULT_DB = Path("var") / "ingestion" / "ingestion.db"


class Settings(ServiceSettings):
    """Configuration of one ingestion process."""

    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    port: int = 8101
    database_url: str = f"sqlite:///{_DEFAULT_DB}"
    amqp_uri: str = DEFAULT_AMQP_URI
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
