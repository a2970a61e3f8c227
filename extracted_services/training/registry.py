"""The worker's view of the MLflow registry: versions in the contract's shapes, and promotion.

Promotion moves the ``champion`` alias (the one inference serves), points
``previous-champion`` at the version that served before (the roll-back target), and tags
the promoted version with ``promoted_at``. A version registered by the monolith export and
one trained here carry the same tags, so both list the same way.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

# Imported with the module, not lazily: two green threads importing mlflow at once (the
# readiness probe and a promotion) hit its half-initialised package (ImportError).
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from contracts.registry import DataWindow, ModelMetrics, ModelVersion
from extracted_services.training.errors import NotFound, RegistryUnavailable

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous-champion"
TAG_PROMOTED_AT = "promoted_at"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Registry:
    """Blocking MLflow client calls (from a green thread in the worker)."""

    def __init__(self, tracking_uri: str, name: str) -> None:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
        self.tracking_uri = tracking_uri
        self.name = name

    def _client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise NotFound(exc.message) from exc
            raise RegistryUnavailable(f"the MLflow registry failed: {exc.message}") from exc
        except OSError as exc:
            raise RegistryUnavailable(f"the MLflow registry is unreachable: {exc}") from exc

    def alias_version(self, alias: str) -> str | None:
        """The version an alias points at, or ``None`` (no model, or no such alias)."""
        try:
            mv = self._call(self._client().get_model_version_by_alias, self.name, alias)
        except NotFound:
            return None
        return str(mv.version)

    def _raw_versions(self) -> list[Any]:
        try:
            found = self._call(self._client().search_model_versions, f"name = '{self.name}'")
        except NotFound:
            return []
        # A version is registered before its tags are written (by the training job or the
        # export); until its feature-spec tag is there it is still being created: not listed.
        complete = [mv for mv in found if mv.tags.get("feature_spec_version")]
        return sorted(complete, key=lambda mv: int(mv.version), reverse=True)

    def versions(self) -> tuple[str | None, list[ModelVersion]]:
        """(the champion's version, every version newest first)."""
        current = self.alias_version(CHAMPION)
        return current, [_contract(mv, current) for mv in self._raw_versions()]

    def get(self, version: str) -> ModelVersion:
        if not (version.isascii() and version.isdigit()) or len(version) > 9:
            raise NotFound(f"model version {version!r} does not exist")
        try:
            mv = self._call(self._client().get_model_version, self.name, version)
        except NotFound as exc:
            raise NotFound(f"model version {version!r} does not exist") from exc
        return _contract(mv, self.alias_version(CHAMPION))

    def metrics_of(self, version: str) -> ModelMetrics | None:
        try:
            return self.get(version).metrics
        except (NotFound, ValueError):
            return None

    def promote(self, version: str) -> tuple[ModelVersion, str | None]:
        """Serve ``version``; returns it and the version that served before (if any)."""
        self.get(version)  # 404 before anything moves
        client = self._client()
        previous = self.alias_version(CHAMPION)
        if previous is not None and previous != version:
            self._call(client.set_registered_model_alias, self.name, PREVIOUS_CHAMPION, previous)
        now = datetime.now(UTC).isoformat()
        self._call(client.set_model_version_tag, self.name, version, TAG_PROMOTED_AT, now)
        self._call(client.set_registered_model_alias, self.name, CHAMPION, version)
        return self.get(version), previous


def _contract(mv: Any, current: str | None) -> ModelVersion:
    tags: dict[str, str] = dict(mv.tags or {})
    metric = {k.removeprefix("metric."): v for k, v in tags.items() if k.startswith("metric.")}
    metrics = ModelMetrics(
        roc_auc=float(metric.get("roc_auc", 0.0)),
        pr_auc=float(metric.get("pr_auc", 0.0)),
        brier=float(metric.get("brier", 0.0)),
        train_rows=int(float(metric.get("train_rows", 0))),
        holdout_rows=int(float(metric.get("holdout_rows", 0))),
        fraud_rate=float(metric.get("fraud_rate", 0.0)),
    )
    created = datetime.fromtimestamp((mv.creation_timestamp or 0) / 1000.0, UTC)
    start = tags.get("data_window_start")
    end = tags.get("data_window_end")
    window = DataWindow(
        start=datetime.fromisoformat(start) if start else _EPOCH,
        end=datetime.fromisoformat(end) if end else _EPOCH,
        rows=int(tags.get("data_window_rows", 0)),
    )
    promoted = tags.get(TAG_PROMOTED_AT)
    version = str(mv.version)
    return ModelVersion(
        version=version,
        created_at=created,
        training_run_id=tags.get("training_run_id") or None,
        feature_spec_version=tags.get("feature_spec_version", "unknown"),
        metrics=metrics,
        data_window=window,
        is_current=version == current,
        promoted_at=datetime.fromisoformat(promoted) if promoted else None,
    )
