"""The training service's one ``Settings``: ``TRAINING_*`` variables, plus the common names
``PORT``, ``DATABASE_URL``, ``AMQP_URI``, ``LOG_LEVEL`` and ``MLFLOW_TRACKING_URI``
(``service_runtime.settings``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventbus import DEFAULT_AMQP_URI
from service_runtime.settings import ServiceSettings

_DEFAULT_DB = Path("var") / "training" / "training.db"


class Settings(ServiceSettings):
    """Configuration of one training worker."""

    model_config = SettingsConfigDict(env_prefix="TRAINING_", extra="ignore")

    port: int = 8103
    database_url: str = f"sqlite:///{_DEFAULT_DB}"
    amqp_uri: str = DEFAULT_AMQP_URI
    mlflow_tracking_uri: str = "http://127.0.0.1:5500"
    model_name: str = "risk-scorer"
    experiment: str = "risk-scorer"
    #: ``auto``: a new version that beats the champion's ROC AUC by at least
    #: ``promotion_margin`` on the same fresh hold-out (newest labelled rows, enough of
    #: them) is proposed, scored beside the champion on live traffic by the inference
    #: service, and promoted when that shadow scoring passes; the very first model serves
    #: at once. ``manual``: every version waits for ``POST /api/v1/models/{version}/promote``.
    promotion_policy: Literal["auto", "manual"] = "auto"
    promotion_margin: float = Field(default=0.01, ge=-1.0, le=1.0)
    #: The fresh hold-out: this share of a run's rows (newest by arrival), at least
    #: ``min_holdout_rows``; the comparison counts only with ``min_holdout_positives``
    #: fraud cases (and as many legitimate ones) in it.
    holdout_share: float = Field(default=0.25, gt=0.0, lt=1.0)
    min_holdout_rows: int = Field(default=300, ge=10)
    min_holdout_positives: int = Field(default=20, ge=1)
    #: Shadow scoring: live decisions each inference instance scores with a proposed
    #: version beside the champion before reporting, and the share of declines above which
    #: the proposal is refused.
    shadow_rows: int = Field(default=200, ge=1, le=100_000)
    shadow_max_decline_rate: float = Field(default=0.25, gt=0.0, le=1.0)
    #: Fewest labelled transactions a run may train on (409 not-enough-data below it).
    min_rows: int = Field(default=200, ge=10)
    #: A drift-triggered run is not started within this many seconds of the previous one.
    retrain_cooldown_s: float = Field(default=300.0, ge=0)
    #: Options of a drift-triggered run: the newest rows only, so it learns the new traffic.
    retrain_max_rows: int = Field(default=1500, ge=100)
    retrain_epochs: int = Field(default=6, ge=1, le=100)
    #: A drift-triggered run whose version did not beat the champion (or whose hold-out was
    #: too small) is tried again this much later, when more of the new traffic has arrived,
    #: up to ``retrain_max_attempts`` runs per alarm.
    retrain_retry_s: float = Field(default=20.0, ge=0)
    retrain_max_attempts: int = Field(default=4, ge=1, le=20)
    #: A training run (a child process) is killed after this long.
    run_timeout_s: float = Field(default=900.0, gt=0)
    #: The run's CPU manners on a shared machine: its nice level (19 = yield to anything
    #: else runnable, so serving never waits on training) and torch's threads.
    job_nice: int = Field(default=19, ge=0, le=19)
    job_threads: int = Field(default=1, ge=1, le=64)
    relay_interval_s: float = Field(default=0.5, gt=0)
