"""Model quality metrics against hand-computed values and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from riskmodel.quality import average_precision, brier, roc_auc

LABELS = [0, 0, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8]


def test_roc_auc_of_the_textbook_example() -> None:
    # Pairs (pos, neg): (0.35,0.1)+ (0.35,0.4)- (0.8,0.1)+ (0.8,0.4)+ -> 3/4
    assert roc_auc(LABELS, SCORES) == pytest.approx(0.75)


def test_roc_auc_extremes_ties_and_one_class() -> None:
    assert roc_auc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]) == 1.0
    assert roc_auc([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2]) == 0.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5  # a tie counts half
    assert roc_auc([0, 1, 1], [0.3, 0.3, 0.9]) == pytest.approx(0.75)
    assert roc_auc([1, 1, 1], [0.1, 0.2, 0.3]) == 0.5
    assert roc_auc([0, 0], [0.1, 0.2]) == 0.5


def test_roc_auc_equals_the_mann_whitney_u_statistic() -> None:
    rng = np.random.default_rng(7)
    labels = rng.random(500) < 0.1
    scores = np.round(rng.random(500) + labels * 0.3, 2)  # rounded: plenty of ties
    u = mannwhitneyu(scores[labels], scores[~labels]).statistic
    assert roc_auc(labels, scores) == pytest.approx(u / (labels.sum() * (~labels).sum()))


def test_average_precision_of_the_textbook_example() -> None:
    # Ranked: 0.8(+) 0.4(-) 0.35(+) 0.1(-): AP = 0.5*1 + 0.5*(2/3)
    assert average_precision(LABELS, SCORES) == pytest.approx(0.5 + 1 / 3)


def test_average_precision_extremes_and_ties() -> None:
    assert average_precision([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2]) == 1.0
    assert average_precision([0, 0], [0.5, 0.6]) == 0.0
    # All tied: one threshold with precision 1/2 at recall 1.
    assert average_precision([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    # Worst ranking of 1 positive among 4: precision 1/4 at recall 1.
    assert average_precision([1, 0, 0, 0], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.25)


def test_average_precision_matches_a_direct_definition() -> None:
    rng = np.random.default_rng(3)
    labels = rng.random(300) < 0.2
    scores = rng.random(300) + labels * 0.2  # distinct scores
    order = np.argsort(-scores)
    hits = labels[order]
    precision_at_hits = np.cumsum(hits)[hits] / (np.flatnonzero(hits) + 1)
    assert average_precision(labels, scores) == pytest.approx(precision_at_hits.mean())


def test_brier() -> None:
    assert brier(LABELS, SCORES) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert brier([1, 0], [1.0, 0.0]) == 0.0
    assert brier([1, 0], [0.0, 1.0]) == 1.0
    assert brier([], []) == 0.0
