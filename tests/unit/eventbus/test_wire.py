"""Events become persistent JSON messages with the envelope in headers, and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contracts.events import TransactionsIngested, route_for
from contracts.transactions import Transaction
from eventbus import InvalidMessage, decode, encode

TX = {
    "transaction_id": "tx-1",
    "account_id": "acct-1",
    "amount": 12.5,
    "currency": "EUR",
    "merchant_category": "5411",
    "country": "DE",
    "channel": "web",
    "timestamp": "2026-11-25T10:15:00+01:00",
}
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def event() -> TransactionsIngested:
    return TransactionsIngested(
        ingested_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        transactions=[Transaction.model_validate_json(json.dumps(TX))],
    )


def test_encode_follows_the_wire_convention() -> None:
    ev = event()
    message = encode(ev, traceparent=TRACE)
    assert (message.exchange, message.routing_key) == ("ingestion.events", "transactions_ingested")
    assert message.content_type == "application/json"
    assert message.content_encoding == "utf-8"
    assert message.delivery_mode == 2
    assert message.message_id == ev.event_id
    assert dict(message.headers) == {
        "event_id": ev.event_id,
        "event_type": "transactions_ingested",
        "schema_version": 1,
        "occurred_at": ev.occurred_at.isoformat(),
        "traceparent": TRACE,
    }
    assert json.loads(message.body)["transactions"][0]["transaction_id"] == "tx-1"


def test_encode_starts_a_trace_when_none_is_given_and_refuses_a_bad_one() -> None:
    assert encode(event()).traceparent is not None
    with pytest.raises(ValueError):
        encode(event(), traceparent="not-a-trace")


def test_decode_round_trip() -> None:
    ev = event()
    message = encode(ev, traceparent=TRACE)
    delivery = decode(
        route_for("transactions_ingested"),
        message.body,
        content_type=message.content_type,
        headers=message.headers,
    )
    assert delivery.event == ev
    assert delivery.traceparent == TRACE


def test_decode_tolerates_unknown_fields() -> None:
    body = json.loads(encode(event()).body)
    body["added_later"] = True
    delivery = decode(
        route_for("transactions_ingested"),
        json.dumps(body).encode(),
        content_type="application/json",
    )
    assert delivery.event_id == body["event_id"]


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "why"),
    [
        (None, "text/plain", {}, "content type"),
        (None, None, {}, "content type"),
        (b"{not json", "application/json", {}, "not JSON"),
        (b'{"event_type": "model_promoted"}', "application/json", {}, "not a"),
        (b'{"event_type": "transactions_ingested"}', "application/json", {}, "schema"),
        (None, "application/json", {"event_id": "other"}, "event_id"),
    ],
)
def test_decode_refuses_what_can_never_be_handled(
    body: bytes | None, content_type: str | None, headers: dict[str, str], why: str
) -> None:
    raw = body if body is not None else encode(event()).body
    with pytest.raises(InvalidMessage, match=why):
        decode(route_for("transactions_ingested"), raw, content_type=content_type, headers=headers)
