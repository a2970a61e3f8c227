"""The read service's settings: ``TICKETS_READ_*`` (or the bare ``HOST``, ``PORT``,
``DATABASE_URL``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETS_READ_", extra="ignore")

    host: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("TICKETS_READ_HOST", "HOST")
    )
    port: int = Field(default=8300, validation_alias=AliasChoices("TICKETS_READ_PORT", "PORT"))
    database_url: str = Field(
        default="sqlite:///var/helpdesk/helpdesk.db",
        validation_alias=AliasChoices("TICKETS_READ_DATABASE_URL", "DATABASE_URL"),
    )
