"""Loading a model version from the MLflow registry and checking it before it may serve.

A model URI is resolved to one concrete registry version first (an alias can move between
two calls), then that version's ``pt2`` artifact is loaded as a module, wrapped in the
configured backend and checked: the feature-spec version in its tags must be one this code
implements, and a probe batch of generated transactions must score to finite
probabilities with finite attributions (for ONNX: the same as torch on the probe).
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from contracts.features import N_FEATURES, is_compatible, transform_many
from datagen import generate
from extracted_services.inference.backends import (
    OnnxBackend,
    ScoringBackend,
    TorchBackend,
    export_explained_onnx,
)
from extracted_services.inference.errors import ModelRejected
from riskmodel.scoring import explain_rows

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

#: Tag on a registry version naming the feature spec it was trained with (set by the
#: kit's export and by the training service).
TAG_FEATURE_SPEC = "feature_spec_version"
PROBE_ROWS = 64
ONNX_TOLERANCE = 1e-5
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class ServedModel:
    """A checked model version, ready to score; immutable so it can be swapped by reference."""

    name: str
    version: str
    uri: str
    feature_spec_version: str
    backend: ScoringBackend
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_seconds: float = 0.0


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``models:/name@alias`` or ``models:/name/3`` -> (name, alias, version)."""
    match = _URI.match(uri)
    if match is None:
        raise ModelRejected(uri, f"not a registry URI (models:/name@alias or /version): {uri}")
    return match["name"], match["alias"], match["version"]


def probe_features() -> npt.NDArray[np.float32]:
    """Deterministic, realistic feature rows to check a model with before it serves."""
    return transform_many(generate(PROBE_ROWS, seed=7_777, id_prefix="probe"))


def check_scores(
    uri: str, scores: npt.NDArray[np.float64], attributions: npt.NDArray[np.float64]
) -> None:
    """Refuse a model whose probe output is malformed, non-finite or not a probability."""
    if scores.shape != (PROBE_ROWS,) or attributions.shape != (PROBE_ROWS, N_FEATURES):
        raise ModelRejected(uri, f"probe output has shapes {scores.shape} and {attributions.shape}")
    if not (np.isfinite(scores).all() and np.isfinite(attributions).all()):
        raise ModelRejected(uri, "probe batch scored to NaN or infinity")
    if scores.min() < 0.0 or scores.max() > 1.0:
        raise ModelRejected(uri, "probe scores are not probabilities")


class RegistryLoader:
    """Resolves, loads and checks registry versions (blocking: call it off the event loop)."""

    def __init__(
        self, tracking_uri: str, backend: str, work_dir: Path, onnx_threads: int = 1
    ) -> None:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        # MLflow's client retries an unreachable server for minutes by default.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
        self.tracking_uri = tracking_uri
        self.backend = backend
        self.work_dir = work_dir
        self.onnx_threads = onnx_threads

    def _client(self) -> MlflowClient:
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri)

    def resolve(self, uri: str) -> tuple[str, str, dict[str, str]]:
        """(name, concrete version, tags) of a registry URI."""
        from mlflow.exceptions import MlflowException

        name, alias, version = parse_model_uri(uri)
        client = self._client()
        try:
            if alias is not None:
                mv = client.get_model_version_by_alias(name, alias)
            else:
                mv = client.get_model_version(name, str(version))
        except MlflowException as exc:
            missing = exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")
            reason = "the registry has no such version" if missing else "the registry failed"
            raise ModelRejected(uri, f"{reason}: {exc.message}", transient=not missing) from exc
        return name, str(mv.version), dict(mv.tags)

    def load(self, uri: str) -> ServedModel:
        """Load and check one version; raises ``ModelRejected`` with the reason."""
        try:
            return self._load(uri)
        except ModelRejected:
            raise
        except Exception as exc:  # noqa: BLE001 - registry unreachable, bad artifact, ...
            raise ModelRejected(uri, f"{uri} could not be loaded: {exc!r}", transient=True) from exc

    def _load(self, uri: str) -> ServedModel:
        import mlflow
        from mlflow.exceptions import MlflowException

        started = time.perf_counter()
        name, version, tags = self.resolve(uri)
        spec = tags.get(TAG_FEATURE_SPEC)
        if spec is None or not is_compatible(spec):
            raise ModelRejected(
                uri,
                f"{name}/{version} was trained with feature spec {spec!r}, "
                "which this service does not implement",
                version=version,
            )
        concrete = f"models:/{name}/{version}"
        try:
            mlflow.set_tracking_uri(self.tracking_uri)
            module = mlflow.pytorch.load_model(concrete)
        except (MlflowException, OSError, RuntimeError, ValueError) as exc:
            raise ModelRejected(uri, f"{concrete} failed to load: {exc}", version=version) from exc
        try:
            backend = self._backend(module, name, version)
            probe = probe_features()
            scores, attributions = backend.explain(probe)
        except ModelRejected:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a foreign model refuses it
            raise ModelRejected(
                uri, f"{concrete} failed on the probe batch: {exc!r}", version=version
            ) from exc
        check_scores(uri, scores, attributions)
        elapsed = time.perf_counter() - started
        logger.info("loaded %s (%s backend) in %.2fs", concrete, backend.name, elapsed)
        return ServedModel(
            name=name,
            version=version,
            uri=concrete,
            feature_spec_version=spec,
            backend=backend,
            load_seconds=elapsed,
        )

    def _backend(self, module: object, name: str, version: str) -> ScoringBackend:
        torch_backend = TorchBackend(module)
        if self.backend == "torch":
            return torch_backend
        path = self.work_dir / "onnx" / f"{name}-v{version}-{os.getpid()}.onnx"
        export_explained_onnx(module, path)
        onnx_backend = OnnxBackend(path, self.onnx_threads)
        # The export is checked against the module it came from before it may serve.
        probe = probe_features()
        expected_scores, expected_attr = explain_rows(module, probe)  # type: ignore[arg-type]
        scores, attributions = onnx_backend.explain(probe)
        diff = max(
            float(np.abs(scores - expected_scores).max()),
            float(np.abs(attributions - expected_attr).max()),
        )
        if not diff <= ONNX_TOLERANCE:
            raise ModelRejected(
                f"models:/{name}/{version}",
                f"the ONNX export differs from torch by {diff:.2e} on the probe batch",
                version=version,
            )
        return onnx_backend
