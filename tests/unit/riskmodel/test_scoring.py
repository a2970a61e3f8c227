"""Decisions by threshold and how attributions are ranked and named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contracts.features import FEATURE_NAMES, N_FEATURES
from contracts.predictions import Decision
from riskmodel.scoring import (
    DECLINE_THRESHOLD,
    REVIEW_THRESHOLD,
    TOP_K_ATTRIBUTIONS,
    decide,
    explain_rows,
    top_attributions,
)


@pytest.mark.parametrize(
    ("score", "decision"),
    [
        (0.0, Decision.APPROVE),
        (0.3499999, Decision.APPROVE),
        (REVIEW_THRESHOLD, Decision.REVIEW),
        (0.5, Decision.REVIEW),
        (0.7999999, Decision.REVIEW),
        (DECLINE_THRESHOLD, Decision.DECLINE),
        (1.0, Decision.DECLINE),
    ],
)
def test_decide_by_thresholds(score: float, decision: Decision) -> None:
    assert (REVIEW_THRESHOLD, DECLINE_THRESHOLD) == (0.35, 0.80)
    assert decide(score) is decision


def test_top_attributions_are_the_largest_magnitudes_with_sign_and_value() -> None:
    features = np.arange(N_FEATURES, dtype=np.float32) / 10
    attributions = np.zeros(N_FEATURES)
    attributions[[2, 7, 11, 0, 4, 9]] = [0.5, -0.9, 0.3, 0.05, -0.6, 0.2]

    top = top_attributions(features, attributions)

    assert len(top) == TOP_K_ATTRIBUTIONS == 5
    assert [a.feature for a in top] == [FEATURE_NAMES[i] for i in (7, 4, 2, 11, 9)]
    assert [a.attribution for a in top] == [-0.9, -0.6, 0.5, 0.3, 0.2]
    assert top[0].value == pytest.approx(0.7)


def test_ties_are_broken_by_feature_order() -> None:
    attributions = np.zeros(N_FEATURES)
    attributions[[12, 3, 8, 1, 10, 5]] = [0.4, -0.4, 0.4, 0.4, -0.4, 0.4]
    top = top_attributions(np.ones(N_FEATURES), attributions)
    assert [a.feature for a in top] == [FEATURE_NAMES[i] for i in (1, 3, 5, 8, 10)]


def test_differences_below_rounding_count_as_ties() -> None:
    attributions = np.zeros(N_FEATURES)
    attributions[6] = 0.1 + 1e-12
    attributions[2] = 0.1
    top = top_attributions(np.ones(N_FEATURES), attributions)
    assert [a.feature for a in top[:2]] == ["hour_sin", "cross_border"]


def test_all_zero_attributions_list_the_first_features() -> None:
    top = top_attributions(np.zeros(N_FEATURES), np.zeros(N_FEATURES))
    assert [a.feature for a in top] == list(FEATURE_NAMES[:5])


def test_explain_rows_is_gradient_times_input_of_the_logit() -> None:
    weights = torch.arange(1, N_FEATURES + 1, dtype=torch.float32) / 10
    linear = torch.nn.Linear(N_FEATURES, 1)
    with torch.no_grad():
        linear.weight.copy_(weights.unsqueeze(0))
        linear.bias.fill_(-1.0)
    rows = np.random.default_rng(0).normal(size=(4, N_FEATURES)).astype(np.float32)

    scores, attributions = explain_rows(linear, rows)

    logits = rows.astype(np.float64) @ weights.numpy().astype(np.float64) - 1.0
    np.testing.assert_allclose(scores, 1 / (1 + np.exp(-logits)), rtol=1e-5)
    np.testing.assert_allclose(attributions, rows * weights.numpy(), rtol=1e-5, atol=1e-7)
    assert scores.dtype == attributions.dtype == np.float64
