"""The training service's one ``Settings``: ``TRAINING_*`` variables, plus the common names
``PORT``, ``DATABASE_URL``, ``AMQP_URI`` and ``MLFLOW_TRACKING_URI`` (DESIGN section 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.messaging import DEFAULT_AMQP_URI

_DEFAULT_DB = Path("var") / "training" / "training.db"


class Settings(BaseSettings):
    """Configuration of one training worker."""

    model_config = SettingsConfigDict(env_prefix="TRAINING_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8103, validation_alias=AliasChoices("TRAINING_PORT", "PORT"))
    database_url: str = Field(
        default=f"sqlite:///{_DEFAULT_DB}",
        validation_alias=AliasChoices("TRAINING_DATABASE_URL", "DATABASE_URL"),
    )
    amqp_uri: str = Field(
        default=DEFAULT_AMQP_URI, validation_alias=AliasChoices("TRAINING_AMQP_URI", "AMQP_URI")
    )
    mlflow_tracking_uri: str = Field(
        default="http://127.0.0.1:5500",
        validation_alias=AliasChoices("TRAINING_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
    )
    model_name: str = "risk-scorer"
    experiment: str = "risk-scorer"
    #: ``auto``: a challenger that beats the champion's hold-out ROC AUC by at least
    #: ``promotion_margin`` (or any challenger when nothing serves) is promoted at once;
    #: ``manual``: every challenger waits for ``POST /api/v1/models/{version}/promote``.
    promotion_policy: Literal["auto", "manual"] = "auto"
    promotion_margin: float = Field(default=0.0, ge=-1.0, le=1.0)
    #: Fewest labelled transactions a run may train on (409 not-enough-data below it).
    min_rows: int = Field(default=200, ge=10)
    #: A drift-triggered run is not started within this many seconds of the previous one.
    retrain_cooldown_s: float = Field(default=300.0, ge=0)
    #: Options of a drift-triggered run: the newest rows only, so it learns the new traffic.
    retrain_max_rows: int = Field(default=6000, ge=100)
    retrain_epochs: int = Field(default=6, ge=1, le=100)
    #: A training run (a child process) is killed after this long.
    run_timeout_s: float = Field(default=900.0, gt=0)
    relay_interval_s: float = Field(default=0.5, gt=0)
    log_level: str = "INFO"
