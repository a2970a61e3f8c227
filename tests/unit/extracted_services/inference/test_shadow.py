"""Shadow scoring of a proposed version: counts, when it ends, and what it reports."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from contracts.events.models import ChallengerProposed
from contracts.features import N_FEATURES
from contracts.registry import HoldoutEvaluation
from extracted_services.inference.registry import ServedModel
from extracted_services.inference.shadow import ShadowRun

EVALUATION = HoldoutEvaluation(
    rows=400, positives=30, sufficient=True, challenger_roc_auc=0.9, champion_version="3",
    champion_roc_auc=0.7, summary="0.9 vs 0.7",
)  # fmt: skip


class _Fixed:
    """A backend that answers the given scores in turn, whatever the rows."""

    name = "fixed"

    def __init__(self, scores: list[float]) -> None:
        self.scores = list(scores)

    def explain(
        self, features: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        n = features.shape[0]
        taken, self.scores = self.scores[:n], self.scores[n:]
        return np.array(taken, dtype=np.float64), np.zeros((n, N_FEATURES))


def _run(scores: list[float], rows: int = 4) -> ShadowRun:
    proposal = ChallengerProposed(
        model_version="4", model_uri="models:/risk-scorer/4", champion_version="3",
        feature_spec_version="1", rows=rows, evaluation=EVALUATION,
        proposed_at=datetime.now(UTC),
    )  # fmt: skip
    model = ServedModel("risk-scorer", "4", "models:/risk-scorer/4", "1", _Fixed(scores))  # type: ignore[arg-type]
    return ShadowRun(proposal, model, "3", "host-1")


def _rows(n: int) -> npt.NDArray[np.float32]:
    return np.zeros((n, N_FEATURES), dtype=np.float32)


def test_it_counts_agreement_and_declines_then_reports_once_complete() -> None:
    run = _run([0.9, 0.1, 0.5, 0.05, 0.99, 0.2])
    run.observe("3", _rows(3), np.array([0.1, 0.1, 0.5]))  # disagree, agree, agree
    assert not run.done and run.rows == 3
    run.observe("3", _rows(3), np.array([0.02, 0.95, 0.3]))  # only 1 more row is wanted
    assert run.done and run.outcome == "completed" and run.rows == 4
    report = run.report()
    assert (report.model_version, report.champion_version, report.instance) == ("4", "3", "host-1")
    assert report.rows == 4 and report.agreement == 0.75
    assert report.challenger_decline_rate == 0.25 and report.champion_decline_rate == 0.0
    assert report.errors == 0
    run.observe("3", _rows(2), np.array([0.1, 0.1]))  # ended: nothing more is counted
    assert run.rows == 4


def test_a_new_champion_aborts_and_non_finite_scores_count_as_errors() -> None:
    run = _run([float("nan"), 0.1], rows=10)
    run.observe("3", _rows(2), np.array([0.1, 0.1]))
    assert run.errors == 1 and not run.done
    run.observe("5", _rows(2), np.array([0.1, 0.1]))
    assert run.outcome == "aborted" and "v5" in run.reason
    assert run.report().outcome == "aborted"


def test_a_version_that_could_not_be_loaded_is_reported_failed() -> None:
    run = _run([0.1])
    run.challenger = None
    run.observe("3", _rows(1), np.array([0.1]))
    assert run.outcome == "failed" and run.report().rows == 0
