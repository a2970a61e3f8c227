"""The monitoring service's one ``Settings``: ``MONITORING_*`` variables, plus the common
names ``PORT``, ``DATABASE_URL``, ``AMQP_URI``, ``LOG_LEVEL`` and ``MLFLOW_TRACKING_URI``
(``service_runtime.settings``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from contracts.monitoring import MAX_DRIFT_WINDOW, MIN_DRIFT_WINDOW, DriftThresholds
from eventbus import DEFAULT_AMQP_URI
from service_runtime.settings import ServiceSettings

_DEFAULT_DB = Path("var") / "monitoring" / "monitoring.db"


class Settings(ServiceSettings):
    """Configuration of one monitoring worker."""

    model_config = SettingsConfigDict(env_prefix="MONITORING_", extra="ignore")

    port: int = 8104
    database_url: str = f"sqlite:///{_DEFAULT_DB}"
    amqp_uri: str = DEFAULT_AMQP_URI
    #: Where a version's reference is read when no ``training_completed`` brought it (the
    #: champion exported from the monolith): its run's ``reference/`` artifacts. Unset: never.
    mlflow_tracking_uri: str | None = None
    model_name: str = "risk-scorer"
    #: A version whose reference could not be read is tried again after this long.
    registry_retry_s: float = Field(default=60.0, ge=0)
    #: A feature drifts when its PSI or its KS statistic reaches these.
    psi_threshold: float = Field(default=0.2, gt=0)
    ks_threshold: float = Field(default=0.2, gt=0, le=1)
    #: Fewer predictions than this in the window: ``insufficient_data``, never an alarm.
    min_samples: int = Field(default=MIN_DRIFT_WINDOW, ge=10)
    #: The detector's window: the newest ``detect_window`` predictions of the serving model
    #: version (count-based), none older than ``detect_max_age_s`` (time-based).
    detect_window: int = Field(default=500, ge=MIN_DRIFT_WINDOW, le=MAX_DRIFT_WINDOW)
    #: The detector raises no alarm on fewer predictions than this: at 50 rows the KS
    #: statistic's noise (about 1.36/sqrt(n) = 0.19 at 95 %) is as large as the threshold.
    alarm_min_samples: int = Field(default=200, ge=MIN_DRIFT_WINDOW)
    detect_max_age_s: float = Field(default=3600.0, gt=0)
    check_interval_s: float = Field(default=5.0, gt=0)
    #: An episode ends after this many consecutive checks without drift (or a new model).
    settle_checks: int = Field(default=3, ge=1)
    #: Predictions kept (oldest deleted first).
    retention_rows: int = Field(default=MAX_DRIFT_WINDOW, ge=MAX_DRIFT_WINDOW)
    relay_interval_s: float = Field(default=0.5, gt=0)

    def thresholds(self) -> DriftThresholds:
        return DriftThresholds(
            psi=self.psi_threshold, ks=self.ks_threshold, min_samples=self.min_samples
        )
