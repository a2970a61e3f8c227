"""The two decisions the worker makes by itself: whether a new challenger is promoted
(the promotion policy) and whether a drift alarm starts a run (one at a time, cool-down).

Pure logic with an injectable clock, so that the unit tests pin both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from contracts.registry import ModelMetrics


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str


def decide_promotion(
    policy: str,
    margin: float,
    challenger: ModelMetrics,
    champion: ModelMetrics | None,
    *,
    requested: bool = True,
) -> PromotionDecision:
    """Promote a challenger automatically only under the ``auto`` policy, when the run asked
    for it, and when it beats the champion's hold-out ROC AUC by at least ``margin``.

    The two models' hold-out sets differ (each run holds out its own rows): the comparison
    is the registry's recorded figure against the new one, as a person would compare them.
    """
    if policy != "auto":
        return PromotionDecision(False, "the promotion policy is manual: waiting for a person")
    if not requested:
        return PromotionDecision(False, "the run asked not to be promoted")
    if champion is None:
        return PromotionDecision(True, "nothing serves yet")
    gain = challenger.roc_auc - champion.roc_auc
    if gain >= margin:
        return PromotionDecision(
            True,
            f"ROC AUC {challenger.roc_auc:.4f} vs champion {champion.roc_auc:.4f} "
            f"(+{gain:.4f} >= margin {margin:.4f})",
        )
    return PromotionDecision(
        False,
        f"ROC AUC {challenger.roc_auc:.4f} vs champion {champion.roc_auc:.4f} "
        f"({gain:+.4f} < margin {margin:.4f}): waiting for a person",
    )


class RetrainGate:
    """At most one drift-triggered run per model at a time, and none within ``cooldown_s``
    of the previous one's start, so a drift storm does not become a run storm.

    State is in memory: a restarted worker may start one run sooner than the cool-down.
    """

    def __init__(self, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._last_start: dict[str, float] = {}

    def try_start(self, model: str) -> tuple[bool, str]:
        """Claim a run for ``model``; ``(False, why)`` when one runs or cools down."""
        with self._lock:
            if model in self._running:
                return False, f"a retraining run of {model} is already in progress"
            now = self._clock()
            last = self._last_start.get(model)
            if last is not None and now - last < self.cooldown_s:
                wait = self.cooldown_s - (now - last)
                return False, f"{model} is cooling down for another {wait:.0f}s"
            self._running.add(model)
            self._last_start[model] = now
            return True, "started"

    def finish(self, model: str) -> None:
        """The claimed run ended (whatever its outcome); the cool-down keeps counting."""
        with self._lock:
            self._running.discard(model)

    def running(self, model: str) -> bool:
        with self._lock:
            return model in self._running
