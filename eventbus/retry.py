"""Bounded retries with delay, then parking: the decision a consumer takes on a failure.

Pure logic, so that it is tested without a broker. A failed delivery is *copied* to the
queue's delay queue (``<queue>.retry``) with ``x-retry-count`` incremented and a
per-message expiration, or, once retries are exhausted (or the message can never succeed),
to its dead-letter queue with the reason in headers; only then is the original acked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from eventbus.topology import DEAD_LETTER_EXCHANGE, ConsumerQueue
from eventbus.wire import InvalidMessage

H_RETRY_COUNT = "x-retry-count"
H_FAILURE_REASON = "x-failure-reason"
H_FAILURE_TYPE = "x-failure-type"
H_FAILED_AT = "x-failed-at"
H_FIRST_FAILED_AT = "x-first-failed-at"
H_ORIGINAL_QUEUE = "x-original-queue"
H_REPLAYED = "x-replay-count"
_MAX_REASON = 1000


class PermanentFailure(Exception):
    """Raised by a handler for a message that no retry can fix: parked at once."""


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` further attempts after the first, each after ``delay_s``.

    One delay per queue on purpose: messages in a delay queue expire only at its head, so
    mixed delays would hold short ones behind long ones.
    """

    max_retries: int = 3
    delay_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.delay_s < 0:
            raise ValueError("max_retries and delay_s must be >= 0")


@dataclass(frozen=True)
class FailureAction:
    """Where the failed copy goes: exchange, routing key, headers, expiration."""

    kind: Literal["retry", "park"]
    exchange: str
    routing_key: str
    headers: dict[str, Any]
    expiration_ms: int | None


def retry_count(headers: Mapping[str, Any] | None) -> int:
    value = (headers or {}).get(H_RETRY_COUNT, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def on_failure(
    queue: ConsumerQueue,
    headers: Mapping[str, Any] | None,
    error: BaseException,
    policy: RetryPolicy,
    *,
    now: datetime | None = None,
) -> FailureAction:
    """Decide retry or park for a delivery that failed with ``error``."""
    stamp = (now or datetime.now(UTC)).isoformat()
    out = {k: v for k, v in (headers or {}).items() if k != "x-death"}
    attempts = retry_count(headers)
    reason = f"{type(error).__name__}: {error}"[:_MAX_REASON]
    out[H_FAILURE_REASON] = reason
    out[H_FAILURE_TYPE] = type(error).__name__
    out[H_FAILED_AT] = stamp
    out.setdefault(H_FIRST_FAILED_AT, stamp)
    out[H_ORIGINAL_QUEUE] = queue.name
    permanent = isinstance(error, PermanentFailure | InvalidMessage)
    if not permanent and attempts < policy.max_retries:
        out[H_RETRY_COUNT] = attempts + 1
        return FailureAction(
            "retry", "", queue.retry_queue, out, max(int(policy.delay_s * 1000), 1)
        )
    out[H_RETRY_COUNT] = attempts
    return FailureAction("park", DEAD_LETTER_EXCHANGE, queue.dead_letter_queue, out, None)


def replay_headers(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Headers of a parked message sent back to its queue: retries reset, replay counted."""
    out = {k: v for k, v in (headers or {}).items() if k != "x-death"}
    replays = out.get(H_REPLAYED, 0)
    out[H_REPLAYED] = (replays if isinstance(replays, int) else 0) + 1
    out[H_RETRY_COUNT] = 0
    return out
