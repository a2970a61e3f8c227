"""Bounded retries with delay, then the dead-letter queue with the reason in headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventbus import InvalidMessage, PermanentFailure, RetryPolicy, build_topology
from eventbus.retry import on_failure, replay_headers, retry_count
from eventbus.topology import DEAD_LETTER_EXCHANGE

QUEUE = build_topology().consumer_queue("legacy_sync", "transactions_ingested")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_first_failures_go_to_the_delay_queue_with_the_count_incremented() -> None:
    policy = RetryPolicy(max_retries=2, delay_s=1.5)
    action = on_failure(QUEUE, {"event_id": "e1"}, RuntimeError("db down"), policy, now=NOW)
    assert action.kind == "retry"
    assert (action.exchange, action.routing_key) == ("", QUEUE.retry_queue)
    assert action.expiration_ms == 1500
    assert action.headers["x-retry-count"] == 1
    assert action.headers["x-failure-reason"] == "RuntimeError: db down"
    assert action.headers["x-first-failed-at"] == NOW.isoformat()
    assert action.headers["event_id"] == "e1"
    second = on_failure(QUEUE, action.headers, RuntimeError("again"), policy)
    assert (second.kind, second.headers["x-retry-count"]) == ("retry", 2)
    assert second.headers["x-first-failed-at"] == NOW.isoformat()


def test_after_the_last_retry_the_message_is_parked_with_its_reason() -> None:
    policy = RetryPolicy(max_retries=2, delay_s=1.0)
    action = on_failure(QUEUE, {"x-retry-count": 2, "x-death": [{}]}, KeyError("x"), policy)
    assert action.kind == "park"
    assert (action.exchange, action.routing_key) == (DEAD_LETTER_EXCHANGE, QUEUE.dead_letter_queue)
    assert action.expiration_ms is None
    assert action.headers["x-retry-count"] == 2
    assert action.headers["x-failure-type"] == "KeyError"
    assert action.headers["x-original-queue"] == QUEUE.name
    assert "x-death" not in action.headers


@pytest.mark.parametrize("error", [PermanentFailure("no"), InvalidMessage("bad body")])
def test_what_no_retry_can_fix_is_parked_at_once(error: Exception) -> None:
    action = on_failure(QUEUE, {}, error, RetryPolicy(max_retries=5))
    assert action.kind == "park"
    assert action.headers["x-retry-count"] == 0


def test_zero_delay_still_expires_and_zero_retries_parks_first_failure() -> None:
    assert on_failure(QUEUE, {}, ValueError(), RetryPolicy(3, 0)).expiration_ms == 1
    assert on_failure(QUEUE, {}, ValueError(), RetryPolicy(0, 1)).kind == "park"
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)


def test_reason_is_bounded_and_bad_counts_read_as_zero() -> None:
    action = on_failure(QUEUE, {}, RuntimeError("x" * 5000), RetryPolicy())
    assert len(action.headers["x-failure-reason"]) == 1000
    assert retry_count({"x-retry-count": "3"}) == 0
    assert retry_count(None) == 0


def test_replay_resets_retries_and_counts_replays() -> None:
    headers = replay_headers({"x-retry-count": 3, "x-death": [{}], "event_id": "e"})
    assert headers == {"x-retry-count": 0, "x-replay-count": 1, "event_id": "e"}
    assert replay_headers(headers)["x-replay-count"] == 2
