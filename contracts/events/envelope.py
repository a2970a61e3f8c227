"""The envelope every event shares, and how an event travels as a broker message.

Body fields ``event_id`` (the consumer's idempotency key), ``occurred_at`` and
``schema_version`` are in every event; the W3C ``traceparent`` travels in the message
headers, not the body, so that tracing never changes what a consumer validates.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

TRACEPARENT_HEADER = "traceparent"
EVENT_CONTENT_TYPE = "application/json"
EVENT_CONTENT_ENCODING = "utf-8"
#: W3C trace context, version 00: ``00-<trace-id>-<parent-id>-<flags>``.
TRACEPARENT_PATTERN = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)


def _now() -> datetime:
    return datetime.now(UTC)


def _new_event_id() -> str:
    return str(uuid.uuid4())


class Event(BaseModel):
    """Base of every event: the envelope fields plus the type that is also the routing key.

    Subclasses narrow ``event_type`` and ``schema_version`` to ``Literal`` defaults; a
    breaking change to an event's payload is a new schema version, published alongside the
    old one (see ``contracts/README.md``).
    """

    # On the wire every envelope field is present, defaults included: say so in the schema.
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_serialization_defaults_required=True
    )

    event_id: str = Field(
        default_factory=_new_event_id,
        min_length=1,
        max_length=64,
        description="Unique per event; consumers ignore a redelivered event_id.",
        examples=["0b6f1d7e-8a55-4c31-9b8e-5c2a4f0f3a10"],
    )
    event_type: str
    occurred_at: AwareDatetime = Field(
        default_factory=_now, description="When the fact happened (producer's clock, UTC)."
    )
    schema_version: int = Field(default=1, ge=1, description="Version of this event's schema.")

    @classmethod
    def type_name(cls) -> str:
        """The event type (the routing key), read from the ``event_type`` field's default."""
        default = cls.model_fields["event_type"].default
        if not isinstance(default, str):
            raise TypeError(f"{cls.__name__}.event_type needs a string default")
        return default

    @classmethod
    def version(cls) -> int:
        """The schema version this class produces and reads."""
        default = cls.model_fields["schema_version"].default
        if not isinstance(default, int):
            raise TypeError(f"{cls.__name__}.schema_version needs an int default")
        return default

    def to_message(self, traceparent: str | None = None) -> EventMessage:
        """The broker message for this event (body, headers, routing key)."""
        headers: dict[str, str] = {}
        if traceparent is not None:
            if not _TRACEPARENT.match(traceparent):
                raise ValueError(f"not a W3C traceparent: {traceparent!r}")
            headers[TRACEPARENT_HEADER] = traceparent
        return EventMessage(
            routing_key=self.event_type,
            body=self.model_dump_json().encode(EVENT_CONTENT_ENCODING),
            headers=headers,
        )

    @classmethod
    def from_message(cls, body: bytes | str) -> Self:
        """Parse and validate a message body (a tolerant reader: unknown fields are ignored).

        Producers may add optional fields within one schema version, so a consumer built
        against an older schema must not reject them.
        """
        return cls.model_validate_json(body, extra="ignore")


@dataclass(frozen=True)
class EventMessage:
    """One event as it goes on the wire (nameko's convention: JSON, utf-8, persistent)."""

    routing_key: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = EVENT_CONTENT_TYPE
    content_encoding: str = EVENT_CONTENT_ENCODING

    @property
    def traceparent(self) -> str | None:
        """The W3C trace context the producer attached, if any."""
        return self.headers.get(TRACEPARENT_HEADER)

    def pact_metadata(self) -> dict[str, Any]:
        """The metadata a message pact records and verifies next to the body."""
        return {"contentType": self.content_type, "routing_key": self.routing_key, **self.headers}


def new_traceparent() -> str:
    """A fresh sampled W3C traceparent (for producers that start a trace)."""
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


def is_traceparent(value: object) -> bool:
    """Whether a header value is a well-formed version-00 traceparent."""
    return isinstance(value, str) and bool(_TRACEPARENT.match(value))
