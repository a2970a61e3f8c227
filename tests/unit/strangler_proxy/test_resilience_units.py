"""Breaker, retry budget, sliding window and rollback guard, on a fake clock."""

from __future__ import annotations

from strangler_proxy.resilience import BreakerState, CircuitBreaker, RetryBudget, may_retry
from strangler_proxy.rollback import RollbackGuard, SlidingWindow
from strangler_proxy.route_table.models import BreakerPolicy, RetryPolicy, RollbackSpec


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_cycle() -> None:
    clock = Clock()
    changes: list[BreakerState] = []
    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=3, open_s=5), clock, changes.append)
    breaker.failure()
    breaker.failure()
    breaker.success()  # a success resets the count
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.now += 5
    assert breaker.allow()  # one probe
    assert not breaker.allow()  # and only one
    breaker.failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 5
    assert breaker.allow()
    breaker.success()
    assert breaker.state is BreakerState.CLOSED
    assert changes == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


def test_retry_budget_and_methods() -> None:
    budget = RetryBudget(RetryPolicy(min_retries=1, budget_ratio=0.5))
    assert budget.try_spend() and not budget.try_spend()
    budget.deposit()
    assert not budget.try_spend()
    budget.deposit()
    assert budget.try_spend()
    assert may_retry("GET", True) and may_retry("PUT", True) and may_retry("DELETE", True)
    assert not may_retry("POST", True) and not may_retry("PATCH", True)
    assert not may_retry("GET", False)


def test_window_slides() -> None:
    clock = Clock()
    window = SlidingWindow(10, clock)
    window.add(False, 5)
    clock.now += 6
    window.add(True, 50)
    assert window.stats().errors == 1
    clock.now += 5
    stats = window.stats()
    assert (stats.requests, stats.errors, stats.p99_ms) == (1, 0, 50)


def test_guard_insufficient_data_then_breach() -> None:
    clock = Clock()
    events = []
    guard = RollbackGuard(
        "p",
        RollbackSpec(max_error_rate=0.1, max_p99_ms=100, window_s=30, min_requests=10),
        clock,
        events.append,
    )
    for _ in range(9):
        guard.record(False, 1)
    assert guard.verdict() == "insufficient_data" and not events
    assert guard.record(False, 1)
    assert guard.verdict() == "rolled_back"
    assert events[0].threshold == "max_error_rate" and events[0].measured == 1.0


def test_guard_p99_and_healthy() -> None:
    clock = Clock()
    guard = RollbackGuard(
        "p", RollbackSpec(max_error_rate=0.5, max_p99_ms=100, window_s=30, min_requests=100), clock
    )
    for i in range(100):
        clock.now += 0.1
        guard.record(True, 10 if i < 99 else 99)
    assert guard.verdict() == "healthy"
    for _ in range(5):
        clock.now += 0.1
        guard.record(True, 500)
    assert guard.verdict() == "rolled_back"
    assert guard.event is not None and guard.event.threshold == "max_p99_ms"
    assert guard.event.measured == 500
