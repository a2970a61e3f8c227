"""The decisions the worker makes by itself: whether a new version may serve (the
promotion policy, then the verdict on its shadow scoring) and whether a drift alarm starts
a run (one at a time, cool-down).

Pure logic with an injectable clock, so that the unit tests pin both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from contracts.events.models import ShadowScored
from contracts.registry import HoldoutEvaluation

Action = Literal["promote", "propose", "keep", "insufficient", "manual", "not_requested"]


@dataclass(frozen=True)
class PromotionDecision:
    """What the policy decided for a new version, and why (in words a person reads)."""

    action: Action
    reason: str

    @property
    def promote(self) -> bool:
        return self.action == "promote"


def decide_promotion(
    policy: str,
    margin: float,
    evaluation: HoldoutEvaluation | None,
    *,
    requested: bool = True,
) -> PromotionDecision:
    """Whether a new version may serve, by the ``auto`` policy.

    It may, once it beat the serving version by at least ``margin`` of ROC AUC on the same
    fresh labelled hold-out (``evaluation``), and that hold-out was big enough for the
    figure to mean something; then it is *proposed*: the inference service scores it beside
    the champion on live traffic first (:func:`judge_shadow`). The very first model serves at
    once (nothing to compare with). Anything else stays a challenger for a person.
    """
    if policy != "auto":
        return PromotionDecision("manual", "the promotion policy is manual: waiting for a person")
    if not requested:
        return PromotionDecision("not_requested", "the run asked not to be promoted")
    if evaluation is None:
        return PromotionDecision("insufficient", "no hold-out evaluation: not promoted")
    if evaluation.champion_version is None:
        return PromotionDecision("promote", f"nothing serves yet ({evaluation.summary})")
    if not evaluation.sufficient:
        return PromotionDecision("insufficient", f"{evaluation.summary}: not promoted")
    challenger = evaluation.challenger_roc_auc or 0.0
    champion = evaluation.champion_roc_auc or 0.0
    gain = challenger - champion
    if gain < margin:
        return PromotionDecision(
            "keep", f"{evaluation.summary}: {gain:+.4f} < margin {margin:.4f}; stays challenger"
        )
    return PromotionDecision(
        "propose",
        f"{evaluation.summary}: {gain:+.4f} >= margin {margin:.4f}; "
        "shadow scoring on live traffic before it serves",
    )


def judge_shadow(report: ShadowScored, min_rows: int, max_decline_rate: float) -> tuple[bool, str]:
    """Whether a proposed version passed its shadow scoring on live traffic: enough rows,
    every row scored, and no more declines than a business could take."""
    where = f"{report.rows} live decisions on {report.instance}"
    if report.outcome != "completed":
        return False, f"shadow scoring {report.outcome}: {report.reason}"
    if report.rows < min_rows:
        return False, f"only {where} (needs {min_rows})"
    if report.errors:
        return False, f"{report.errors} of {where} could not be scored"
    if report.challenger_decline_rate > max_decline_rate:
        return False, (
            f"it would decline {report.challenger_decline_rate:.1%} of {where} "
            f"(limit {max_decline_rate:.0%}; the champion declined "
            f"{report.champion_decline_rate:.1%})"
        )
    return True, (
        f"shadow scored {where}: {report.agreement:.1%} same decisions, declines "
        f"{report.challenger_decline_rate:.1%} vs {report.champion_decline_rate:.1%}"
    )


class RetrainGate:
    """At most one drift-triggered run per model at a time, and none within ``cooldown_s``
    of the previous one's start, so a drift storm does not become a run storm.

    The state lives in memory while the worker runs; :meth:`restore` sets it from the
    training store at start-up (the runs table says when the last drift run was requested
    and whether one is unfinished), so a restart neither shortens the cool-down nor lets a
    second run start beside a resumed one.
    """

    def __init__(self, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._last_start: dict[str, float] = {}

    def try_start(self, model: str, *, ignore_cooldown: bool = False) -> tuple[bool, str]:
        """Claim a run for ``model``; ``(False, why)`` when one runs or cools down.

        ``ignore_cooldown``: another attempt for the same alarm (not a new alarm).
        """
        with self._lock:
            if model in self._running:
                return False, f"a retraining run of {model} is already in progress"
            now = self._clock()
            last = self._last_start.get(model)
            if not ignore_cooldown and last is not None and now - last < self.cooldown_s:
                wait = self.cooldown_s - (now - last)
                return False, f"{model} is cooling down for another {wait:.0f}s"
            self._running.add(model)
            self._last_start[model] = now
            return True, "started"

    def restore(self, model: str, *, age_s: float | None, running: bool) -> None:
        """Set ``model``'s state after a restart: its last run started ``age_s`` seconds
        ago (None: never), and whether one is still unfinished (it will be resumed and
        :meth:`finish` ed as usual)."""
        with self._lock:
            if age_s is not None:
                self._last_start[model] = self._clock() - max(age_s, 0.0)
            if running:
                self._running.add(model)

    def finish(self, model: str) -> None:
        """The claimed run ended (whatever its outcome); the cool-down keeps counting."""
        with self._lock:
            self._running.discard(model)

    def running(self, model: str) -> bool:
        with self._lock:
            return model in self._running
