"""Automatic rollback of a canary: a sliding window of the candidate's outcomes vs its SLO.

When the window holds at least ``min_requests`` outcomes and the error rate or the p99
latency breaks the route's SLO, the route's weight drops to 0 at once and the state records
which threshold broke and the measured values. Below ``min_requests`` the verdict is
``insufficient_data``: never a pass. A rolled-back route stays at 0 until an operator
applies a table that changes the route.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from strangler_proxy.route_table.models import RollbackSpec

logger = logging.getLogger(__name__)

Verdict = Literal["insufficient_data", "healthy", "rolled_back", "disabled"]
_EVAL_INTERVAL_S = 0.05


@dataclass(frozen=True, slots=True)
class WindowStats:
    requests: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True, slots=True)
class RollbackEvent:
    at: float
    threshold: Literal["max_error_rate", "max_p99_ms"]
    limit: float
    measured: float
    stats: WindowStats
    #: The replica that decided it, when another one did (shared state, see shared_state).
    replica: str | None = None


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


class SlidingWindow:
    """Outcomes (time, ok, latency) of the last ``window_s`` seconds."""

    __slots__ = ("window_s", "_clock", "_samples", "_errors")

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._samples: deque[tuple[float, bool, float]] = deque()
        self._errors = 0

    def _evict(self, now: float) -> None:
        horizon = now - self.window_s
        samples = self._samples
        while samples and samples[0][0] < horizon:
            if not samples.popleft()[1]:
                self._errors -= 1

    def add(self, ok: bool, latency_ms: float) -> None:
        now = self._clock()
        self._samples.append((now, ok, latency_ms))
        if not ok:
            self._errors += 1
        self._evict(now)

    def stats(self) -> WindowStats:
        self._evict(self._clock())
        n = len(self._samples)
        if n == 0:
            return WindowStats(0, 0, 0.0, None, None)
        latencies = sorted(s[2] for s in self._samples)
        return WindowStats(
            n,
            self._errors,
            self._errors / n,
            _percentile(latencies, 0.5),
            _percentile(latencies, 0.99),
        )


class RollbackGuard:
    """The window and verdict of one canary route."""

    def __init__(
        self,
        route: str,
        spec: RollbackSpec,
        clock: Callable[[], float] = time.monotonic,
        on_rollback: Callable[[RollbackEvent], None] | None = None,
    ) -> None:
        self.route = route
        self.spec = spec
        self.window = SlidingWindow(spec.window_s, clock)
        self._clock = clock
        self._last_eval = -math.inf
        self.event: RollbackEvent | None = None
        self.on_rollback = on_rollback

    @property
    def rolled_back(self) -> bool:
        return self.event is not None

    def record(self, ok: bool, latency_ms: float) -> bool:
        """Add one candidate outcome; True when this outcome triggered the rollback."""
        if self.event is not None:
            return False
        self.window.add(ok, latency_ms)
        now = self._clock()
        if ok and now - self._last_eval < _EVAL_INTERVAL_S:
            return False
        self._last_eval = now
        return self.evaluate()

    def evaluate(self) -> bool:
        if self.event is not None:
            return False
        stats = self.window.stats()
        if stats.requests < self.spec.min_requests:
            return False
        breach: tuple[Literal["max_error_rate", "max_p99_ms"], float, float] | None = None
        if stats.error_rate > self.spec.max_error_rate:
            breach = ("max_error_rate", self.spec.max_error_rate, stats.error_rate)
        elif stats.p99_ms is not None and stats.p99_ms > self.spec.max_p99_ms:
            breach = ("max_p99_ms", self.spec.max_p99_ms, stats.p99_ms)
        if breach is None:
            return False
        self.event = RollbackEvent(self._clock(), breach[0], breach[1], breach[2], stats)
        logger.error(
            "rollback: route %s candidate broke %s (limit %s, measured %.4g over %d requests)"
            "; weight set to 0",
            self.route,
            breach[0],
            breach[1],
            breach[2],
            stats.requests,
        )
        if self.on_rollback is not None:
            self.on_rollback(self.event)
        return True

    def adopt(self, event: RollbackEvent) -> bool:
        """Take a rollback another replica decided; True when it changed this guard."""
        if self.event is not None:
            return False
        self.event = event
        logger.error(
            "rollback: route %s rolled back on replica %s (%s, measured %.4g); weight set to 0",
            self.route,
            event.replica,
            event.threshold,
            event.measured,
        )
        return True

    def verdict(self) -> Verdict:
        if self.event is not None:
            return "rolled_back"
        self.evaluate()
        if self.event is not None:
            return "rolled_back"
        if self.window.stats().requests < self.spec.min_requests:
            return "insufficient_data"
        return "healthy"
