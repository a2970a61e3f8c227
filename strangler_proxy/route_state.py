"""Live, per-route state that outlives a request: canary weight and rollback, shadow results.

A table swap keeps a route's state when the route's definition is unchanged (so a hot
reload of another route does not forget a rollback) and starts fresh otherwise.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strangler_proxy.compare import Comparator, Difference
from strangler_proxy.metrics import ProxyMetrics
from strangler_proxy.rollback import RollbackEvent, RollbackGuard
from strangler_proxy.route_table.models import CanaryRoute, Route, ShadowRoute


@dataclass(frozen=True, slots=True)
class MismatchSample:
    at: float
    method: str
    target: str
    primary_status: int
    candidate_status: int | None
    primary_body: str
    candidate_body: str
    differences: tuple[Difference, ...]


@dataclass(slots=True)
class ShadowCounters:
    comparisons: int = 0
    mismatches: int = 0
    errors: int = 0
    dropped: int = 0
    decisions_total: int = 0
    decisions_agreed: int = 0


@dataclass(slots=True)
class SideCounters:
    primary: int = 0
    candidate: int = 0
    fallback: int = 0
    candidate_errors: int = 0
    read_fallback: int = 0


class RouteState:
    """What the proxy knows about one route while it serves it."""

    def __init__(
        self,
        route: Route,
        metrics: ProxyMetrics,
        samples: int,
        on_rollback: Callable[[str, RollbackEvent], None] | None = None,
    ) -> None:
        self.route = route
        self._on_rollback = on_rollback
        self.metrics = metrics
        self.sides = SideCounters()
        self.guard: RollbackGuard | None = None
        self.comparator: Comparator | None = None
        self.shadow = ShadowCounters()
        self.samples: deque[MismatchSample] = deque(maxlen=samples)
        self.weight = 0.0
        if isinstance(route, CanaryRoute):
            self.weight = route.weight
            metrics.canary_weight.labels(route.name).set(route.weight)
            if route.rollback is not None:
                self.guard = RollbackGuard(
                    route.name, route.rollback, on_rollback=self._rolled_back
                )
        if isinstance(route, ShadowRoute):
            self.comparator = Comparator(route.compare)

    def _rolled_back(self, event: RollbackEvent) -> None:
        self._weight_to_zero(event)
        if self._on_rollback is not None:
            self._on_rollback(self.route.name, event)

    def _weight_to_zero(self, event: RollbackEvent) -> None:
        self.weight = 0.0
        self.metrics.rollbacks.labels(self.route.name, event.threshold).inc()
        self.metrics.canary_weight.labels(self.route.name).set(0)

    def adopt_rollback(self, event: RollbackEvent) -> bool:
        """A rollback another replica decided: weight 0 here too (not published again)."""
        if self.guard is None or not self.guard.adopt(event):
            return False
        self._weight_to_zero(event)
        return True

    def record_comparison(
        self,
        method: str,
        target: str,
        primary_status: int,
        primary_body: bytes,
        candidate_status: int,
        candidate_body: bytes,
    ) -> bool:
        """Compare and record; True on a match."""
        assert self.comparator is not None
        result = self.comparator.compare(
            primary_status, primary_body, candidate_status, candidate_body
        )
        name = self.route.name
        self.shadow.comparisons += 1
        self.metrics.shadow_comparisons.labels(name).inc()
        if result.decisions_total:
            self.shadow.decisions_total += result.decisions_total
            self.shadow.decisions_agreed += result.decisions_agreed
            self.metrics.decisions.labels(name, "true").inc(result.decisions_agreed)
            self.metrics.decisions.labels(name, "false").inc(
                result.decisions_total - result.decisions_agreed
            )
        if result.matched:
            return True
        self.shadow.mismatches += 1
        self.metrics.shadow_mismatches.labels(name).inc()
        self.samples.append(
            MismatchSample(
                time.time(),
                method,
                target,
                primary_status,
                candidate_status,
                _text(primary_body),
                _text(candidate_body),
                tuple(result.differences),
            )
        )
        return False

    def record_shadow_error(
        self,
        method: str,
        target: str,
        primary_status: int,
        primary_body: bytes,
        kind: str,
        detail: str,
    ) -> None:
        self.shadow.errors += 1
        self.metrics.shadow_errors.labels(self.route.name, kind).inc()
        self.samples.append(
            MismatchSample(
                time.time(),
                method,
                target,
                primary_status,
                None,
                _text(primary_body),
                "",
                (Difference("candidate", None, None, f"candidate failed: {detail}"),),
            )
        )

    def snapshot(self) -> dict[str, Any]:
        """The state as plain data for the admin API."""
        route = self.route
        out: dict[str, Any] = {
            "name": route.name,
            "mode": route.mode,
            "primary": route.primary,
            "candidate": getattr(route, "candidate", None),
            "fallback": route.fallback,
            "read_fallback": route.read_fallback,
            "served": {
                "primary": self.sides.primary,
                "candidate": self.sides.candidate,
                "fallback": self.sides.fallback,
                "candidate_errors": self.sides.candidate_errors,
                "read_fallback": self.sides.read_fallback,
            },
        }
        if isinstance(route, CanaryRoute):
            out["configured_weight"] = route.weight
            out["effective_weight"] = self.weight
            out["rollback"] = self._rollback_snapshot()
        if isinstance(route, ShadowRoute):
            s = self.shadow
            out["shadow"] = {
                "comparisons": s.comparisons,
                "mismatches": s.mismatches,
                "errors": s.errors,
                "dropped": s.dropped,
                "mismatch_rate": s.mismatches / s.comparisons if s.comparisons else None,
                "decisions_compared": s.decisions_total,
                "decision_agreement_rate": (
                    s.decisions_agreed / s.decisions_total if s.decisions_total else None
                ),
            }
        return out

    def _rollback_snapshot(self) -> dict[str, Any]:
        guard = self.guard
        if guard is None:
            return {"verdict": "disabled"}
        verdict = guard.verdict()
        stats = guard.window.stats()
        out: dict[str, Any] = {
            "verdict": verdict,
            "window": {
                "seconds": guard.spec.window_s,
                "requests": stats.requests,
                "errors": stats.errors,
                "error_rate": stats.error_rate,
                "p50_ms": stats.p50_ms,
                "p99_ms": stats.p99_ms,
            },
            "slo": guard.spec.model_dump(),
        }
        if verdict == "insufficient_data":
            out["reason"] = (
                f"{stats.requests} of {guard.spec.min_requests} required "
                "candidate requests in the window"
            )
        if guard.event is not None:
            e = guard.event
            out["reason"] = f"{e.threshold} broken: measured {e.measured:.4g} > limit {e.limit}"
            if e.replica is not None:
                out["reason"] += f" (on replica {e.replica})"
            out["event"] = {
                "at": e.at,
                "threshold": e.threshold,
                "limit": e.limit,
                "measured": e.measured,
                "requests": e.stats.requests,
                "errors": e.stats.errors,
                "p99_ms": e.stats.p99_ms,
            }
        return out


def _text(body: bytes, limit: int = 65_536) -> str:
    return body[:limit].decode("utf-8", errors="replace")
