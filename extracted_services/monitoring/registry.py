"""A model version's training reference, read from the MLflow registry when no
``training_completed`` event brought it (a version exported from the monolith, or one
trained before this worker ran): the run's ``reference/`` artifacts, which the kit's
export and the training service both log (``reference_features.npy``,
``reference_scores.npy``), sampled like the event's reference.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Imported with the module: a lazy import from two green threads at once can meet mlflow
# half-initialised (ImportError).
import mlflow.artifacts
import numpy as np
from mlflow.tracking import MlflowClient

from contracts.features import FEATURE_NAMES

SAMPLE_ROWS = 2000


def registry_reference(
    tracking_uri: str, name: str, version: str
) -> tuple[str, dict[str, list[float]]]:
    """(the MLflow run id, feature name -> sample, plus ``score``) of one registry version."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    run_id = MlflowClient(tracking_uri).get_model_version(name, version).run_id
    if not run_id:
        raise LookupError(f"{name}/{version} has no training run")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path="reference", dst_path=tmp, tracking_uri=tracking_uri
            )
        )
        features = np.load(folder / "reference_features.npy")
        scores = np.load(folder / "reference_scores.npy")
    if features.ndim != 2 or features.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"{name}/{version}: reference has shape {features.shape}")
    idx = np.random.default_rng(0).permutation(features.shape[0])[:SAMPLE_ROWS]
    samples = {
        n: features[idx, i].astype(float).round(6).tolist() for i, n in enumerate(FEATURE_NAMES)
    }
    samples["score"] = scores[idx].astype(float).round(6).tolist()
    return run_id, samples
