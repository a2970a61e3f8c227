"""Model quality metrics, computed the same way by every trainer and by the model gate.

Implemented on numpy/scipy (no scikit-learn in the stack); checked against hand-computed
values in the unit tests.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

FloatArray = npt.NDArray[np.floating]


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties averaged); 0.5 if one class only."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    positives = int(y.sum())
    negatives = int(y.size - positives)
    if positives == 0 or negatives == 0:
        return 0.5
    ranks = rankdata(s)
    u = float(ranks[y].sum()) - positives * (positives + 1) / 2.0
    return u / (positives * negatives)


def average_precision(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Area under the precision-recall curve (average precision, step-wise)."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    positives = int(y.sum())
    if positives == 0:
        return 0.0
    order = np.argsort(-s, kind="mergesort")
    y_sorted = y[order]
    s_sorted = s[order]
    # Group tied scores: precision/recall are only defined at distinct thresholds.
    distinct = np.where(np.diff(s_sorted))[0]
    threshold_idx = np.r_[distinct, y_sorted.size - 1]
    tps = np.cumsum(y_sorted)[threshold_idx]
    fps = (threshold_idx + 1) - tps
    precision = tps / (tps + fps)
    recall = tps / positives
    recall_steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(recall_steps * precision))


def brier(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Mean squared error between the score and the label (lower is better calibrated)."""
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if y.size == 0:
        return 0.0
    return float(np.mean((s - y) ** 2))
