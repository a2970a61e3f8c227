"""Drift statistics: PSI and the two-sample KS test, defined once for every monitor.

The monolith's drift endpoint and the monitoring service compute drift with these
functions, so their reports agree number for number.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import ks_2samp

from contracts.monitoring import DriftThresholds, FeatureDrift

_EPSILON = 1e-4
_MAX_CATEGORIES = 12


def _bin_edges(reference: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.float64]:
    """Quantile edges of the reference; a feature with few distinct values gets one bin each."""
    distinct = np.unique(reference)
    if distinct.size <= _MAX_CATEGORIES:
        midpoints = (distinct[:-1] + distinct[1:]) / 2.0
        return np.concatenate(([-np.inf], midpoints, [np.inf]))
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.concatenate(([-np.inf], inner, [np.inf]))


def psi(reference: npt.ArrayLike, window: npt.ArrayLike, bins: int = 10) -> float:
    """Population stability index of ``window`` against ``reference``.

    Bins are the reference's deciles (or its distinct values for a categorical feature);
    empty bins are floored at 1e-4 so the index stays finite.
    """
    ref = np.asarray(reference, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    if ref.size == 0 or win.size == 0:
        return 0.0
    edges = _bin_edges(ref, bins)
    ref_share = np.histogram(ref, edges)[0] / ref.size
    win_share = np.histogram(win, edges)[0] / win.size
    ref_share = np.clip(ref_share, _EPSILON, None)
    win_share = np.clip(win_share, _EPSILON, None)
    return float(np.sum((win_share - ref_share) * np.log(win_share / ref_share)))


def ks(reference: npt.ArrayLike, window: npt.ArrayLike) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value."""
    ref = np.asarray(reference, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    if ref.size == 0 or win.size == 0:
        return 0.0, 1.0
    result = ks_2samp(ref, win)
    return float(result.statistic), float(result.pvalue)


def feature_drift(
    name: str,
    reference: npt.ArrayLike,
    window: npt.ArrayLike,
    thresholds: DriftThresholds,
) -> FeatureDrift:
    """Drift of one feature: drifted when PSI or the KS statistic reaches its threshold."""
    ref = np.asarray(reference, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    index = psi(ref, win)
    statistic, pvalue = ks(ref, win)
    return FeatureDrift(
        feature=name,
        psi=round(index, 6),
        ks_statistic=round(statistic, 6),
        ks_pvalue=min(1.0, max(0.0, pvalue)),
        reference_mean=float(ref.mean()) if ref.size else 0.0,
        window_mean=float(win.mean()) if win.size else 0.0,
        drifted=bool(index >= thresholds.psi or statistic >= thresholds.ks),
    )
