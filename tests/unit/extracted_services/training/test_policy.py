"""The training service's own decisions: the promotion policy and the retraining gate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.events.models import ShadowScored
from contracts.registry import HoldoutEvaluation
from extracted_services.training.policy import RetrainGate, decide_promotion, judge_shadow


def _evaluation(
    challenger: float, champion: float | None, *, rows: int = 500, positives: int = 40
) -> HoldoutEvaluation:
    return HoldoutEvaluation(
        rows=rows,
        positives=positives,
        sufficient=rows >= 300 and positives >= 20,
        challenger_roc_auc=challenger,
        champion_version="3" if champion is not None else None,
        champion_roc_auc=champion,
        summary=f"{challenger} vs {champion}",
    )


@pytest.mark.parametrize(
    ("challenger", "champion", "margin", "action"),
    [
        (0.90, None, 0.01, "promote"),  # nothing serves: the first model always serves
        (0.92, 0.90, 0.01, "propose"),  # beats by 0.02 >= 0.01: shadow scoring first
        (0.905, 0.90, 0.01, "keep"),  # beats, but by less than the margin
        (0.91, 0.90, 0.01, "propose"),  # exactly the margin counts
        (0.88, 0.90, 0.0, "keep"),  # worse
        (0.50, 0.997, 0.01, "keep"),  # the demo's old coin flip never replaces a 0.997
    ],
)
def test_auto_policy_proposes_only_a_model_that_beats_the_champion_on_the_same_hold_out(
    challenger: float, champion: float | None, margin: float, action: str
) -> None:
    decision = decide_promotion("auto", margin, _evaluation(challenger, champion))
    assert decision.action == action
    assert decision.promote is (action == "promote")
    assert decision.reason


def test_a_small_hold_out_never_leads_to_a_promotion() -> None:
    few_rows = decide_promotion("auto", 0.0, _evaluation(0.99, 0.5, rows=120, positives=30))
    few_fraud = decide_promotion("auto", 0.0, _evaluation(0.99, 0.5, rows=900, positives=4))
    missing = decide_promotion("auto", 0.0, None)
    assert {few_rows.action, few_fraud.action, missing.action} == {"insufficient"}


def test_manual_policy_and_a_run_that_asked_not_to_be_promoted_wait() -> None:
    manual = decide_promotion("manual", 0.0, _evaluation(0.99, 0.5))
    assert manual.action == "manual" and "manual" in manual.reason
    declined = decide_promotion("auto", 0.0, _evaluation(0.99, None), requested=False)
    assert declined.action == "not_requested" and not declined.promote


def _report(**overrides: object) -> ShadowScored:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "model_version": "4",
        "champion_version": "3",
        "instance": "host-1",
        "outcome": "completed",
        "rows": 200,
        "agreement": 0.93,
        "challenger_decline_rate": 0.08,
        "champion_decline_rate": 0.01,
        "challenger_mean_score": 0.1,
        "champion_mean_score": 0.05,
        "errors": 0,
        "started_at": now,
        "finished_at": now,
    }
    return ShadowScored.model_validate({**values, **overrides})


def test_shadow_scoring_passes_only_complete_clean_and_sane() -> None:
    assert judge_shadow(_report(), 200, 0.25)[0]
    for report, why in (
        (_report(rows=150), "only 150"),
        (_report(errors=3), "could not be scored"),
        (_report(challenger_decline_rate=0.6), "would decline 60.0%"),
        (_report(outcome="failed", reason="no such version"), "failed: no such version"),
        (_report(outcome="aborted", reason="the champion changed"), "aborted"),
    ):
        passed, reason = judge_shadow(report, 200, 0.25)
        assert not passed and why in reason, reason


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
    started, began = 0, 0.0
    for _second in range(600):  # one alarm per second for ten minutes, runs last 20 s
        if gate.running("m") and clock.now - began >= 20:
            gate.finish("m")
        if gate.try_start("m")[0]:
            started, began = started + 1, clock.now
        clock.now += 1
    assert started == 10


def test_zero_cool_down_still_allows_only_one_at_a_time() -> None:
    gate = RetrainGate(cooldown_s=0)
    assert gate.try_start("m")[0]
    assert not gate.try_start("m")[0]
    gate.finish("m")
    assert gate.try_start("m")[0]


def test_another_attempt_for_the_same_alarm_skips_the_cool_down_but_not_a_running_run() -> None:
    clock = _Clock()
    gate = RetrainGate(cooldown_s=300, clock=clock)
    assert gate.try_start("m")[0]
    assert not gate.try_start("m", ignore_cooldown=True)[0]  # still running
    gate.finish("m")
    assert not gate.try_start("m")[0]  # a new alarm cools down
    assert gate.try_start("m", ignore_cooldown=True)[0]  # a retry of the same one does not
