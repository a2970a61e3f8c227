"""The training service's own decisions: the promotion policy and the retraining gate."""

from __future__ import annotations

import pytest

from contracts.registry import ModelMetrics
from extracted_services.training.policy import RetrainGate, decide_promotion


def _metrics(auc: float) -> ModelMetrics:
    return ModelMetrics(
        roc_auc=auc, pr_auc=0.5, brier=0.02, train_rows=800, holdout_rows=200, fraud_rate=0.02
    )


@pytest.mark.parametrize(
    ("challenger", "champion", "margin", "promote"),
    [
        (0.90, None, 0.01, True),  # nothing serves: the first model always serves
        (0.92, 0.90, 0.01, True),  # beats by 0.02 >= 0.01
        (0.905, 0.90, 0.01, False),  # beats, but by less than the margin
        (0.91, 0.90, 0.01, True),  # exactly the margin counts
        (0.88, 0.90, 0.0, False),  # worse
        (0.88, 0.90, -0.05, True),  # a negative margin accepts a slightly worse model
    ],
)
def test_auto_policy_promotes_only_by_the_margin(
    challenger: float, champion: float | None, margin: float, promote: bool
) -> None:
    decision = decide_promotion(
        "auto", margin, _metrics(challenger), _metrics(champion) if champion else None
    )
    assert decision.promote is promote
    assert decision.reason


def test_manual_policy_and_a_run_that_asked_not_to_be_promoted_wait() -> None:
    manual = decide_promotion("manual", 0.0, _metrics(0.99), _metrics(0.5))
    assert not manual.promote and "manual" in manual.reason
    declined = decide_promotion("auto", 0.0, _metrics(0.99), None, requested=False)
    assert not declined.promote


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gate_allows_one_run_at_a_time_and_then_cools_down() -> None:
    clock = _Clock()
    gate = RetrainGate(cooldown_s=300, clock=clock)
    assert gate.try_start("risk-scorer") == (True, "started")
    started, why = gate.try_start("risk-scorer")
    assert not started and "in progress" in why
    assert gate.try_start("other-model")[0]  # per model
    gate.finish("risk-scorer")
    clock.now += 299
    started, why = gate.try_start("risk-scorer")
    assert not started and "cooling down" in why
    clock.now += 1
    assert gate.try_start("risk-scorer")[0]


def test_a_storm_of_alarms_starts_one_run_per_cool_down() -> None:
    clock = _Clock()
    gate = RetrainGate(cooldown_s=60, clock=clock)
    started = 0
    for _second in range(600):  # one alarm per second for ten minutes, runs last 20 s
        if gate.running("m") and clock.now - gate._last_start["m"] >= 20:
            gate.finish("m")
        started += gate.try_start("m")[0]
        clock.now += 1
    assert started == 10


def test_zero_cool_down_still_allows_only_one_at_a_time() -> None:
    gate = RetrainGate(cooldown_s=0)
    assert gate.try_start("m")[0]
    assert not gate.try_start("m")[0]
    gate.finish("m")
    assert gate.try_start("m")[0]
