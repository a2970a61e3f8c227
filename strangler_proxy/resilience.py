"""Per-upstream resilience: a circuit breaker and a retry budget, plus the retry rules.

Only idempotent methods (RFC 9110 section 9.2.2) are retried, only on failures that
happened before an answer could be used (connection errors, timeouts, 502/503/504), only
while the body is replayable, and only while the upstream's retry budget has tokens:
each original request deposits ``budget_ratio`` of a token, each retry spends one, so
retries add at most that share of load in the long run and cannot amplify an outage.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from enum import IntEnum

from strangler_proxy.route_table.models import IDEMPOTENT_METHODS, BreakerPolicy, RetryPolicy

RETRYABLE_STATUSES = frozenset({502, 503, 504})


class BreakerState(IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    """Consecutive-failure breaker: open after N failures, one probe after ``open_s``."""

    __slots__ = ("policy", "_clock", "state", "_failures", "_opened_at", "_probing", "on_change")

    def __init__(
        self,
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.policy = policy
        self._clock = clock
        self.state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self.on_change = on_change

    def _set(self, state: BreakerState) -> None:
        if state is not self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(state)

    def allow(self) -> bool:
        """Whether a request may go out now (in half-open state, only one probe at a time)."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if self._clock() - self._opened_at < self.policy.open_s:
                return False
            self._set(BreakerState.HALF_OPEN)
            self._probing = False
        if self._probing:
            return False
        self._probing = True
        return True

    def success(self) -> None:
        self._failures = 0
        self._probing = False
        self._set(BreakerState.CLOSED)

    def failure(self) -> None:
        self._probing = False
        if self.state is BreakerState.HALF_OPEN:
            self._opened_at = self._clock()
            self._set(BreakerState.OPEN)
            return
        self._failures += 1
        if self.state is BreakerState.CLOSED and self._failures >= self.policy.failure_threshold:
            self._opened_at = self._clock()
            self._set(BreakerState.OPEN)

    @property
    def consecutive_failures(self) -> int:
        return self._failures


class RetryBudget:
    """Token bucket of retries, filled by original requests (see the module docstring)."""

    __slots__ = ("policy", "tokens", "_cap")

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.tokens = float(policy.min_retries)
        self._cap = float(max(policy.min_retries, 1) * 10)

    def deposit(self) -> None:
        tokens = self.tokens + self.policy.budget_ratio
        self.tokens = tokens if tokens < self._cap else self._cap

    def try_spend(self) -> bool:
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def may_retry(method: str, replayable: bool) -> bool:
    """Whether a request of this method may be sent again at all."""
    return replayable and method in IDEMPOTENT_METHODS


def backoff_delay(policy: RetryPolicy, retry_number: int) -> float:
    """Exponential backoff with full jitter: uniform in [0, backoff_s * 2**(n-1)]."""
    return random.uniform(0, policy.backoff_s * (2 ** max(retry_number - 1, 0)))
