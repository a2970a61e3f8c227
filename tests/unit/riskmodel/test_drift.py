"""PSI and KS: hand-computed references, scipy, and the drift decision."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ks_2samp

from contracts.monitoring import DriftThresholds
from riskmodel.drift import feature_drift, ks, psi


def test_psi_of_a_binary_feature_by_hand() -> None:
    reference = [0.0] * 50 + [1.0] * 50
    window = [0.0] * 80 + [1.0] * 20
    # (0.8-0.5) ln(0.8/0.5) + (0.2-0.5) ln(0.2/0.5) = 0.3 ln 4
    assert psi(reference, window) == pytest.approx(0.3 * math.log(4))


def test_psi_floors_empty_bins() -> None:
    reference = [0.0] * 50 + [1.0] * 50
    window = [0.0] * 10
    expected = 0.5 * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert psi(reference, window) == pytest.approx(expected)
    assert math.isfinite(psi(reference, window))


def test_psi_uses_reference_deciles_for_continuous_features() -> None:
    reference = np.arange(1000, dtype=float)  # deciles: 100 values per bin
    assert psi(reference, reference) == pytest.approx(0.0, abs=1e-12)
    # Everything in the top bin: 0.9 * ... of the floored bins plus the top one.
    window = np.full(100, 999.0)
    expected = 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1) + (1 - 0.1) * math.log(1 / 0.1)
    assert psi(reference, window) == pytest.approx(expected, rel=1e-6)


def test_psi_is_near_zero_for_one_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    reference = rng.lognormal(3.0, 0.6, 5000)
    same = rng.lognormal(3.0, 0.6, 2000)
    shifted = rng.lognormal(3.0 + math.log(2.5), 0.6, 2000)
    assert psi(reference, same) < 0.02
    assert psi(reference, shifted) > 1.0


def test_psi_and_ks_of_empty_inputs() -> None:
    assert psi([], [1.0]) == 0.0
    assert ks([1.0], []) == (0.0, 1.0)


def test_ks_by_hand_and_against_scipy() -> None:
    assert ks([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])[0] == 1.0
    assert ks([1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0])[0] == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 700), rng.normal(0.2, 1, 400)
    expected = ks_2samp(a, b)
    statistic, pvalue = ks(a, b)
    assert statistic == pytest.approx(expected.statistic)
    assert pvalue == pytest.approx(expected.pvalue)


def test_feature_drift_flags_by_either_threshold() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(0, 1, 3000)
    thresholds = DriftThresholds()

    calm = feature_drift("amount_log", reference, rng.normal(0, 1, 1000), thresholds)
    moved = feature_drift("amount_log", reference, rng.normal(1, 1, 1000), thresholds)

    assert calm.drifted is False
    assert calm.psi < thresholds.psi and calm.ks_statistic < thresholds.ks
    assert moved.drifted is True
    assert moved.psi >= thresholds.psi and moved.ks_statistic >= thresholds.ks
    assert moved.window_mean == pytest.approx(1.0, abs=0.1)
    assert moved.reference_mean == pytest.approx(0.0, abs=0.1)

    psi_only = feature_drift(
        "x", reference, rng.normal(1, 1, 1000), DriftThresholds(psi=0.2, ks=1.0)
    )
    ks_only = feature_drift(
        "x", reference, rng.normal(1, 1, 1000), DriftThresholds(psi=100.0, ks=0.2)
    )
    assert psi_only.drifted and ks_only.drifted
    assert not feature_drift(
        "x", reference, rng.normal(1, 1, 1000), DriftThresholds(psi=100.0, ks=1.0)
    ).drifted
