"""Drift monitoring: recent scored traffic against the serving model's training reference."""

from __future__ import annotations

import numpy as np

from contracts.features import FEATURE_NAMES
from contracts.monitoring import DriftReport, DriftThresholds, DriftWindow
from legacy_monolith.clock import as_utc, utcnow
from legacy_monolith.db import Database
from legacy_monolith.domain.inference import recent_feature_rows
from legacy_monolith.domain.registry import ModelRegistry
from riskmodel.drift import feature_drift


def drift_report(
    db: Database, registry: ModelRegistry, window: int, thresholds: DriftThresholds
) -> DriftReport:
    """Per-feature PSI and KS over the newest ``window`` predictions."""
    model = registry.serving()
    features, scores, times = recent_feature_rows(db, window)
    aware_times = [as_utc(t) for t in times]  # type: ignore[arg-type]
    drift_window = DriftWindow(
        requested=window,
        size=len(features),
        start=min(aware_times) if aware_times else None,
        end=max(aware_times) if aware_times else None,
    )
    base = {
        "model_version": str(model.version) if model else None,
        "reference_rows": int(model.reference_features.shape[0]) if model else 0,
        "window": drift_window,
        "thresholds": thresholds,
        "computed_at": utcnow(),
    }
    if model is None:
        return DriftReport(status="no_reference", drifted_features=[], features=[], **base)
    if len(features) < thresholds.min_samples:
        return DriftReport(status="insufficient_data", drifted_features=[], features=[], **base)
    matrix = np.asarray(features, dtype=np.float64)
    per_feature = [
        feature_drift(name, model.reference_features[:, i], matrix[:, i], thresholds)
        for i, name in enumerate(FEATURE_NAMES)
    ]
    score = feature_drift("score", model.reference_scores, np.asarray(scores), thresholds)
    drifted = [f.feature for f in per_feature if f.drifted]
    return DriftReport(
        status="drift" if drifted else "ok",
        drifted_features=drifted,
        features=per_feature,
        score=score,
        **base,
    )
