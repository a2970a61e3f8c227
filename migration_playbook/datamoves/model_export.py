"""Export the monolith's serving model into the MLflow registry (phase 1's first step).

The monolith keeps its model as a ``state_dict`` of ``riskmodel.RiskNet`` in an artifact
folder; the export reads the folder and the ``model_versions`` row through their data
contracts (``contracts.stores``), never through the monolith's code. It logs the model in
MLflow's ``pt2`` format (``torch.export``): a self-contained, pickle-free graph with the
weights and the input standardisation inside, that loads back as a callable
``GraphModule`` on which autograd works (the explanations need gradients), with a dynamic
batch dimension. The reference
distribution (features and scores) and the monolith's ``meta.json`` travel as artifacts of
the same run, and the registered version carries its lineage as tags.

Exporting is idempotent: a monolith version that is already registered is not registered
again, and the alias is pointed at it only when no version holds the alias yet. Once the
training service has promoted its own versions, re-running the export (a later phase's
pre-step) must not move ``champion`` back behind everyone's back: that would roll the
registry back without a ``model_promoted``, and the next proposal would be compared with a
version nobody serves.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from contracts.features import FEATURE_NAMES
from contracts.registry import DataWindow, ModelMetrics
from contracts.stores.monolith import model_versions, serving_state
from migration_playbook.datamoves.stores import store_engine
from riskmodel import artifacts

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

REGISTERED_MODEL = "risk-scorer"
CHAMPION_ALIAS = "champion"
EXPERIMENT = "risk-scorer"
#: The model version tags the inference service reads (feature spec) and people read.
TAG_FEATURE_SPEC = "feature_spec_version"
TAG_SOURCE = "source"
TAG_MONOLITH_VERSION = "monolith_version"
REFERENCE_ARTIFACTS = "reference"
_EXAMPLE_ROWS = 8  # > 1, so the exported batch dimension is dynamic


class ExportError(RuntimeError):
    """The monolith has nothing to export, or its artifacts are unreadable."""


@dataclass(frozen=True)
class ExportResult:
    """What the export did: which monolith version became which registry version."""

    monolith_version: int
    registered_model: str
    registry_version: str
    alias: str
    run_id: str
    created: bool  # False when the monolith version was already registered
    #: Where ``alias`` points after the export (another version when training has promoted
    #: one since: the export leaves it there).
    alias_version: str | None = None

    @property
    def model_uri(self) -> str:
        return f"models:/{self.registered_model}/{self.registry_version}"


@dataclass(frozen=True)
class _Described:
    """What the registry records of the exported version (from its ``model_versions`` row)."""

    metrics: ModelMetrics
    data_window: DataWindow
    feature_spec_version: str
    training_run_id: str | None


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _offline() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version ``alias`` points at, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def find_registered(client: MlflowClient, name: str, monolith_version: int) -> str | None:
    """The registry version already exported from ``monolith_version``, if any."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    for mv in versions:
        if mv.tags.get(TAG_MONOLITH_VERSION) == str(monolith_version):
            return str(mv.version)
    return None


def export_monolith_model(
    database_url: str,
    model_dir: Path,
    tracking_uri: str,
    *,
    version: int | None = None,
    name: str = REGISTERED_MODEL,
    alias: str = CHAMPION_ALIAS,
) -> ExportResult:
    """Register the monolith's serving (or a given) model version and point ``alias`` at it."""
    _offline()
    with store_engine(database_url) as engine, engine.connect() as connection:
        if version is None:
            version = connection.scalar(
                select(serving_state.c.current_version).where(serving_state.c.id == 1)
            )
        if version is None:
            raise ExportError("the monolith serves no model yet: train and promote one first")
        monolith_version = int(version)
        row = connection.execute(
            select(model_versions).where(model_versions.c.version == monolith_version)
        ).first()
    if row is None:
        raise ExportError(f"the monolith has no model version {monolith_version}")
    artifact_path = Path(row.artifact_path)
    if not artifact_path.is_absolute() and not artifact_path.exists():
        artifact_path = model_dir / artifact_path.name
    described = _Described(
        metrics=ModelMetrics.model_validate(row.metrics),
        data_window=DataWindow(
            start=_as_utc(row.window_start), end=_as_utc(row.window_end), rows=row.window_rows
        ),
        feature_spec_version=row.feature_spec_version,
        training_run_id=row.training_run_id,
    )
    try:
        loaded = artifacts.load(artifact_path, monolith_version)
    except (OSError, RuntimeError) as exc:
        raise ExportError(f"cannot read the monolith's model at {artifact_path}: {exc}") from exc

    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    existing = find_registered(client, name, monolith_version)
    if existing is not None:
        holder = _alias_version(client, name, alias)
        if holder is None:
            client.set_registered_model_alias(name, alias, existing)
            holder = existing
        run_id = client.get_model_version(name, existing).run_id or ""
        logger.info("monolith v%s is already %s/%s", monolith_version, name, existing)
        return ExportResult(
            monolith_version, name, existing, alias, run_id, created=False, alias_version=holder
        )

    metrics = described.metrics
    window = described.data_window
    tags = {
        TAG_SOURCE: "legacy_monolith",
        TAG_MONOLITH_VERSION: str(monolith_version),
        TAG_FEATURE_SPEC: described.feature_spec_version,
        "feature_names": ",".join(FEATURE_NAMES),
        "data_window_start": window.start.isoformat(),
        "data_window_end": window.end.isoformat(),
        "data_window_rows": str(window.rows),
        "training_run_id": described.training_run_id or "",
        **{f"metric.{k}": str(v) for k, v in metrics.model_dump().items()},
    }
    example = np.ascontiguousarray(loaded.reference_features[:_EXAMPLE_ROWS], dtype=np.float32)
    if example.shape[0] < 2:
        raise ExportError("the monolith's reference distribution has fewer than 2 rows")

    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"monolith-v{monolith_version}") as run:
        mlflow.set_tags(tags)
        mlflow.log_params(
            {
                "monolith_version": monolith_version,
                "feature_spec_version": described.feature_spec_version,
                "n_features": len(FEATURE_NAMES),
            }
        )
        mlflow.log_metrics(
            {k: float(v) for k, v in metrics.model_dump().items() if isinstance(v, int | float)}
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            np.save(folder / "reference_features.npy", loaded.reference_features)
            np.save(folder / "reference_scores.npy", loaded.reference_scores)
            meta = {
                "monolith_version": monolith_version,
                "feature_spec_version": described.feature_spec_version,
                "feature_names": list(FEATURE_NAMES),
                "metrics": metrics.model_dump(),
                "data_window": window.model_dump(mode="json"),
                "training_run_id": described.training_run_id,
            }
            (folder / "meta.json").write_text(json.dumps(meta, indent=2))
            mlflow.log_artifacts(str(folder), REFERENCE_ARTIFACTS)
        info = mlflow.pytorch.log_model(
            loaded.network,
            name="model",
            input_example=example,
            serialization_format="pt2",
            pip_requirements=["torch==2.13.0"],
            registered_model_name=name,
        )
        run_id = run.info.run_id
    registry_version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(name, registry_version, key, value)
    client.update_model_version(
        name,
        registry_version,
        description=(
            f"Exported from the legacy monolith's model version {monolith_version} "
            f"(ROC AUC {metrics.roc_auc:.3f}, trained on {window.rows} rows)."
        ),
    )
    client.set_registered_model_alias(name, alias, registry_version)
    logger.info("registered monolith v%s as %s/%s", monolith_version, name, registry_version)
    return ExportResult(
        monolith_version, name, registry_version, alias, run_id, created=True,
        alias_version=registry_version,
    )  # fmt: skip
