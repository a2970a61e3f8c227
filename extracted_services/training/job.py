"""One training run, in its own process: read the store, train, log and register in MLflow.

The nameko worker runs under eventlet; torch's CPU-bound training would starve its event
hub (no heartbeats, no HTTP answers) and eventlet does not mix with torch's threads. So
the worker starts ``python -m extracted_services.training.job``, writes the job as JSON to
its stdin and reads the :class:`JobResult` from its stdout's last line; the child never
writes to the service's database.

The registered version has the format of the kit's monolith export
(``migration_playbook/model_export.py``), which the inference service loads: MLflow's
``pt2`` model (``torch.export`` with a dynamic batch), the tags ``feature_spec_version``,
``feature_names``, ``data_window_*``, ``training_run_id`` and ``metric.*``, and the
reference distribution as artifacts under ``reference/``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from contracts.events.models import FeatureReference
from contracts.features import FEATURE_NAMES, FEATURE_SPEC_VERSION, transform_many
from contracts.registry import DataWindow, ModelMetrics, TrainingRunRequest

logger = logging.getLogger(__name__)

CHALLENGER_ALIAS = "challenger"
REFERENCE_ARTIFACTS = "reference"
EXIT_NOT_ENOUGH_DATA = 3
_EXAMPLE_ROWS = 8


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    trigger: str
    params: TrainingRunRequest
    database_url: str
    tracking_uri: str
    model_name: str
    experiment: str
    min_rows: int


class JobResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_version: str | None = None
    mlflow_run_id: str | None = None
    metrics: ModelMetrics | None = None
    data_window: DataWindow | None = None
    reference: list[FeatureReference] = []
    error: str | None = None


def run(job: Job) -> JobResult:
    import torch

    from contracts.modeling import train_model
    from extracted_services.training.reference import build_reference
    from extracted_services.training.store import Database, labelled_rows

    torch.set_num_threads(1)
    db = Database(job.database_url)
    try:
        with db.session() as session:
            rows = labelled_rows(session, job.params)
    finally:
        db.dispose()
    if len(rows) < job.min_rows:
        return JobResult(
            error=f"training needs at least {job.min_rows} labelled transactions in the "
            f"requested window; {len(rows)} are stored"
        )
    features = transform_many([tx for tx, _, _ in rows])
    labels = np.array([label for _, label, _ in rows])
    times = [when for _, _, when in rows]
    window = DataWindow(start=min(times), end=max(times), rows=len(rows))
    result = train_model(features, labels, epochs=job.params.epochs, seed=job.params.seed)
    reference = build_reference(
        result.reference_features, result.reference_scores, seed=job.params.seed
    )
    version, mlflow_run_id = _register(job, result, window)
    return JobResult(
        model_version=version,
        mlflow_run_id=mlflow_run_id,
        metrics=result.metrics,
        data_window=window,
        reference=reference,
    )


def _register(job: Job, result: object, window: DataWindow) -> tuple[str, str]:
    import mlflow
    from mlflow.tracking import MlflowClient

    from contracts.modeling import TrainingResult

    assert isinstance(result, TrainingResult)
    metrics = result.metrics
    tags = {
        "source": "training",
        "feature_spec_version": FEATURE_SPEC_VERSION,
        "feature_names": ",".join(FEATURE_NAMES),
        "data_window_start": window.start.isoformat(),
        "data_window_end": window.end.isoformat(),
        "data_window_rows": str(window.rows),
        "training_run_id": job.run_id,
        "trigger": job.trigger,
        **{f"metric.{k}": str(v) for k, v in metrics.model_dump().items()},
    }
    mlflow.set_tracking_uri(job.tracking_uri)
    client = MlflowClient(job.tracking_uri)
    mlflow.set_experiment(job.experiment)
    example = np.ascontiguousarray(result.reference_features[:_EXAMPLE_ROWS], dtype=np.float32)
    with mlflow.start_run(run_name=f"training-{job.run_id[:8]}") as run:
        mlflow.set_tags(tags)
        mlflow.log_params(
            {
                **{k: str(v) for k, v in job.params.model_dump(mode="json").items()},
                "feature_spec_version": FEATURE_SPEC_VERSION,
                "n_features": len(FEATURE_NAMES),
                "trigger": job.trigger,
            }
        )
        mlflow.log_metrics(
            {k: float(v) for k, v in metrics.model_dump().items() if isinstance(v, int | float)}
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            np.save(folder / "reference_features.npy", result.reference_features)
            np.save(folder / "reference_scores.npy", result.reference_scores)
            meta = {
                "training_run_id": job.run_id,
                "feature_spec_version": FEATURE_SPEC_VERSION,
                "feature_names": list(FEATURE_NAMES),
                "metrics": metrics.model_dump(),
                "data_window": window.model_dump(mode="json"),
            }
            (folder / "meta.json").write_text(json.dumps(meta, indent=2))
            mlflow.log_artifacts(str(folder), REFERENCE_ARTIFACTS)
        info = mlflow.pytorch.log_model(
            result.model,
            name="model",
            input_example=example,
            serialization_format="pt2",
            pip_requirements=["torch==2.13.0"],
            registered_model_name=job.model_name,
        )
        mlflow_run_id = run.info.run_id
    version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(job.model_name, version, key, value)
    client.update_model_version(
        job.model_name,
        version,
        description=(
            f"Trained by the training service, run {job.run_id} ({job.trigger}); "
            f"ROC AUC {metrics.roc_auc:.3f} on {window.rows} rows."
        ),
    )
    client.set_registered_model_alias(job.model_name, CHALLENGER_ALIAS, version)
    return version, mlflow_run_id


def main() -> int:
    """Read a :class:`Job` from stdin, print its :class:`JobResult` as the last stdout line."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    job = Job.model_validate_json(sys.stdin.read())
    result = run(job)
    sys.stdout.write("\n" + result.model_dump_json() + "\n")
    sys.stdout.flush()
    if result.error is not None:
        return EXIT_NOT_ENOUGH_DATA
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
