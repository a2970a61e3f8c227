"""How an event becomes an AMQP message and back: body, properties and headers.

The body is the event's JSON (nameko-compatible: ``application/json``, utf-8, persistent).
The envelope is repeated in headers (``event_id``, ``event_type``, ``schema_version``,
``occurred_at``) with the W3C ``traceparent``, so that routing, tracing, dead-letter
inspection and replay never need to parse the body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts.events.catalog import EventRoute, route_for
from contracts.events.envelope import (
    EVENT_CONTENT_ENCODING,
    EVENT_CONTENT_TYPE,
    TRACEPARENT_HEADER,
    Event,
    is_traceparent,
    new_traceparent,
)

PERSISTENT = 2
H_EVENT_ID = "event_id"
H_EVENT_TYPE = "event_type"
H_SCHEMA_VERSION = "schema_version"
H_OCCURRED_AT = "occurred_at"
#: The largest event body a consumer reads (the HTTP APIs' body limit too): the biggest
#: event the kit publishes, a batch of 1,000 ingested transactions, is about 300 KiB.
MAX_EVENT_BYTES = 4 * 1024 * 1024


class InvalidMessage(ValueError):
    """A delivery that can never be handled (wrong content type, body breaks the schema)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One event ready to publish: where to, the body, and every property on the wire."""

    exchange: str
    routing_key: str
    body: bytes
    headers: Mapping[str, Any]
    message_id: str
    timestamp: datetime
    app_id: str
    content_type: str | None = EVENT_CONTENT_TYPE
    content_encoding: str | None = EVENT_CONTENT_ENCODING
    delivery_mode: int = PERSISTENT

    @property
    def event_id(self) -> str:
        return self.message_id

    @property
    def traceparent(self) -> str | None:
        value = self.headers.get(TRACEPARENT_HEADER)
        return value if isinstance(value, str) else None

    def pact_metadata(self) -> dict[str, Any]:
        """What a message pact records next to the body."""
        return {
            "contentType": self.content_type,
            "exchange": self.exchange,
            "routing_key": self.routing_key,
            "delivery_mode": self.delivery_mode,
            **{k: v for k, v in self.headers.items()},
        }


def redirected(
    *,
    body: bytes,
    exchange: str,
    routing_key: str,
    headers: Mapping[str, Any],
    message_id: str | None,
    timestamp: datetime | None,
    app_id: str | None,
    content_type: str | None,
    content_encoding: str | None,
) -> OutgoingMessage:
    """A received message sent on elsewhere (retry, park, replay) with its body and
    properties unchanged, so that a replayed message is the message that failed."""
    return OutgoingMessage(
        exchange=exchange,
        routing_key=routing_key,
        body=body,
        headers=dict(headers),
        message_id=message_id or str(headers.get(H_EVENT_ID, "")),
        timestamp=timestamp or datetime.now(UTC),
        app_id=app_id or "",
        content_type=content_type,
        content_encoding=content_encoding,
    )


def encode(event: Event, *, traceparent: str | None = None) -> OutgoingMessage:
    """The message for ``event`` on its producer's exchange (a fresh trace if none given)."""
    route = route_for(event.event_type)
    tp = traceparent if traceparent is not None else new_traceparent()
    if not is_traceparent(tp):
        raise ValueError(f"not a W3C traceparent: {tp!r}")
    body = event.model_dump_json().encode(EVENT_CONTENT_ENCODING)
    occurred_at = event.occurred_at.astimezone(UTC)
    headers: dict[str, Any] = {
        H_EVENT_ID: event.event_id,
        H_EVENT_TYPE: event.event_type,
        H_SCHEMA_VERSION: event.schema_version,
        H_OCCURRED_AT: occurred_at.isoformat(),
        TRACEPARENT_HEADER: tp,
    }
    return OutgoingMessage(
        exchange=route.exchange,
        routing_key=route.routing_key,
        body=body,
        headers=headers,
        message_id=event.event_id,
        timestamp=occurred_at,
        app_id=route.producer,
    )


@dataclass(frozen=True)
class Delivery:
    """A received event, validated, with what the consumer needs from the message."""

    event: Event
    route: EventRoute
    headers: Mapping[str, Any] = field(default_factory=dict)
    redelivered: bool = False

    @property
    def event_id(self) -> str:
        return self.event.event_id

    @property
    def traceparent(self) -> str | None:
        value = self.headers.get(TRACEPARENT_HEADER)
        return value if is_traceparent(value) else None


def decode(
    route: EventRoute,
    body: bytes,
    *,
    content_type: str | None,
    headers: Mapping[str, Any] | None = None,
    redelivered: bool = False,
) -> Delivery:
    """Validate one delivery against the event table row of its queue.

    Raises :class:`InvalidMessage` for anything a retry cannot fix; the consumer parks it.
    """
    headers = dict(headers or {})
    if len(body) > MAX_EVENT_BYTES:
        raise InvalidMessage(f"body of {len(body)} bytes is over the {MAX_EVENT_BYTES}-byte limit")
    if content_type != EVENT_CONTENT_TYPE:
        raise InvalidMessage(f"content type {content_type!r}, expected {EVENT_CONTENT_TYPE!r}")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("event_type") != route.event_type:
        raise InvalidMessage(f"body is not a {route.event_type!r} event")
    try:
        event = route.model.from_message(body)
    except ValidationError as exc:
        raise InvalidMessage(f"body breaks the {route.event_type} schema: {exc}") from exc
    header_id = headers.get(H_EVENT_ID)
    if header_id is not None and header_id != event.event_id:
        raise InvalidMessage(f"header event_id {header_id!r} != body event_id {event.event_id!r}")
    return Delivery(event=event, route=route, headers=headers, redelivered=redelivered)
