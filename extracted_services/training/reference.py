"""The training reference distribution that ``training_completed`` carries to monitoring.

One entry per feature of the spec, plus one named ``score`` for the predicted score (the
monitor's score drift); each has decile bin edges and shares, the mean, and a seeded
sample of at most 2,000 values that ``riskmodel.drift`` compares a window against.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contracts.events.models import FeatureReference
from contracts.features import FEATURE_NAMES

SCORE = "score"
SAMPLE_ROWS = 2000
_BINS = 10


def _entry(
    name: str, values: npt.NDArray[np.float64], sample_idx: npt.NDArray[np.int64]
) -> FeatureReference:
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, _BINS + 1)))
    if edges.size < 2:
        edges = np.array([float(values[0]), float(values[0]) + 1.0])
    counts = np.histogram(values, edges)[0]
    return FeatureReference(
        feature=name,
        bin_edges=[float(e) for e in edges],
        bin_fractions=[float(c) / max(1, values.size) for c in counts],
        mean=float(values.mean()),
        sample=[round(float(v), 6) for v in values[sample_idx]],
    )


def build_reference(
    features: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], seed: int = 0
) -> list[FeatureReference]:
    """Per-feature (and score) reference of the rows a model was trained with."""
    rows = features.shape[0]
    if rows == 0:
        return []
    sample_idx = np.random.default_rng(seed).permutation(rows)[:SAMPLE_ROWS]
    out = [
        _entry(name, features[:, i].astype(np.float64), sample_idx)
        for i, name in enumerate(FEATURE_NAMES)
    ]
    out.append(_entry(SCORE, scores.astype(np.float64), sample_idx))
    return out
