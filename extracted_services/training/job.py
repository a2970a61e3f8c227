"""One training run, in its own process: read the store, train, log and register in MLflow.

The nameko worker runs under eventlet; torch's CPU-bound training would starve its event
hub (no heartbeats, no HTTP answers) and eventlet does not mix with torch's threads. So
the worker starts ``python -m extracted_services.training.job``, writes the job as JSON to
its stdin and reads the :class:`JobResult` from its stdout's last line; the child never
writes to the service's database.

Before training, the newest labelled rows by arrival are set aside as a fresh hold-out:
the new model never sees them, and it and the serving model (the registry's
``champion``) are both scored on them, so the comparison is of two models on the same
recent traffic, not of two figures from different splits. The hold-out counts as
sufficient only with enough rows and enough fraud cases; below that the comparison is
reported and no promotion may follow. The drift reference is taken from the newest rows
too: it describes the traffic the model was chosen on.

The registered version has the format of the kit's monolith export
(``migration_playbook/datamoves/model_export.py``), which the inference service loads: MLflow's
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
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from contracts.events.models import FeatureReference
from contracts.features import FEATURE_NAMES, FEATURE_SPEC_VERSION, transform_many
from contracts.registry import DataWindow, HoldoutEvaluation, ModelMetrics, TrainingRunRequest
from riskmodel.quality import roc_auc

logger = logging.getLogger(__name__)

CHALLENGER_ALIAS = "challenger"
CHAMPION_ALIAS = "champion"
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
    #: CPU manners on a shared machine: a run takes whatever CPU serving leaves (nice 19)
    #: and never the other way round (at nice 0 a run took a core and doubled the
    #: services' p95 under load), with this many math threads.
    nice: int = 19
    threads: int = 1
    #: The fresh hold-out: this share of the rows (newest by arrival), at least
    #: ``min_holdout_rows``, and never so many that fewer than ``min_rows`` remain to train.
    holdout_share: float = 0.25
    min_holdout_rows: int = 300
    min_holdout_positives: int = 20
    #: The drift reference: this many of the newest rows.
    reference_rows: int = 1000


class JobResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_version: str | None = None
    mlflow_run_id: str | None = None
    metrics: ModelMetrics | None = None
    data_window: DataWindow | None = None
    reference: list[FeatureReference] = []
    evaluation: HoldoutEvaluation | None = None
    error: str | None = None


def holdout_size(rows: int, share: float, minimum: int, keep_for_training: int) -> int:
    """How many of the newest rows the hold-out takes (see :class:`Job`)."""
    wanted = max(minimum, round(rows * share))
    return max(0, min(wanted, rows - keep_for_training))


def run(job: Job) -> JobResult:
    import torch

    from extracted_services.training.reference import build_reference
    from extracted_services.training.store import Database, labelled_rows
    from riskmodel import train_model

    torch.set_num_threads(job.threads)
    db = Database(job.database_url)
    try:
        with db.session() as session:
            rows = labelled_rows(session, job.params)  # newest first, by arrival
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
    held = holdout_size(len(rows), job.holdout_share, job.min_holdout_rows, job.min_rows)
    result = train_model(
        features[held:], labels[held:], epochs=job.params.epochs, seed=job.params.seed
    )
    evaluation = evaluate(job, result.model, features[:held], labels[:held], times[:held])
    newest = features[: job.reference_rows]
    newest_scores = _scores(result.model, newest)
    reference = build_reference(newest, newest_scores, seed=job.params.seed)
    version, mlflow_run_id = _register(job, result, window, evaluation, (newest, newest_scores))
    return JobResult(
        model_version=version,
        mlflow_run_id=mlflow_run_id,
        metrics=result.metrics,
        data_window=window,
        reference=reference,
        evaluation=evaluation,
    )


def _scores(model: object, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Probabilities of a model (the trained network or a registry module) for rows."""
    import torch

    if features.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    with torch.inference_mode():
        logits = model(torch.from_numpy(np.ascontiguousarray(features)))  # type: ignore[operator]
        return torch.sigmoid(logits.reshape(-1)).numpy().astype(np.float32)


def evaluate(
    job: Job,
    challenger: object,
    features: npt.NDArray[np.float32],
    labels: npt.NDArray[np.bool_],
    times: list[Any],
) -> HoldoutEvaluation:
    """The new model and the registry's champion, scored on the same fresh hold-out."""
    rows, positives = int(labels.size), int(labels.sum())
    enough = (
        rows >= job.min_holdout_rows
        and positives >= job.min_holdout_positives
        and rows - positives >= job.min_holdout_positives
    )
    window = DataWindow(start=min(times), end=max(times), rows=rows) if times else None
    if rows == 0:
        return HoldoutEvaluation(
            rows=0, positives=0, sufficient=False, summary="no rows left for a hold-out"
        )
    challenger_auc = round(roc_auc(labels, _scores(challenger, features)), 6)
    champion_version, champion = _champion(job)
    champion_auc = (
        round(roc_auc(labels, _scores(champion, features)), 6) if champion is not None else None
    )
    size = f"{rows} rows, {positives} fraud"
    if not enough:
        need = f"at least {job.min_holdout_rows} rows and {job.min_holdout_positives} of each class"
        summary = f"insufficient data: the hold-out has {size} (needs {need})"
    elif champion_auc is None:
        summary = f"ROC AUC {challenger_auc:.4f} on {size}; nothing serves yet"
    else:
        summary = (
            f"ROC AUC {challenger_auc:.4f} vs champion v{champion_version} "
            f"{champion_auc:.4f} on the same {size}"
        )
    return HoldoutEvaluation(
        rows=rows,
        positives=positives,
        window=window,
        sufficient=enough,
        challenger_roc_auc=challenger_auc,
        champion_version=champion_version,
        champion_roc_auc=champion_auc,
        summary=summary,
    )


def _champion(job: Job) -> tuple[str | None, object | None]:
    """The serving version and its model, from the registry (none before a first model)."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(job.tracking_uri)
    try:
        version = str(client.get_model_version_by_alias(job.model_name, CHAMPION_ALIAS).version)
    except MlflowException:
        return None, None
    mlflow.set_tracking_uri(job.tracking_uri)
    model = mlflow.pytorch.load_model(f"models:/{job.model_name}/{version}")
    return version, model


def _register(
    job: Job,
    result: object,
    window: DataWindow,
    evaluation: HoldoutEvaluation,
    reference: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
) -> tuple[str, str]:
    import mlflow
    from mlflow.tracking import MlflowClient

    from riskmodel import TrainingResult

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
        "holdout_evaluation": evaluation.model_dump_json(),
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
            np.save(folder / "reference_features.npy", reference[0])
            np.save(folder / "reference_scores.npy", reference[1])
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
    if job.nice:
        os.nice(job.nice)
    result = run(job)
    sys.stdout.write("\n" + result.model_dump_json() + "\n")
    sys.stdout.flush()
    if result.error is not None:
        return EXIT_NOT_ENOUGH_DATA
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
