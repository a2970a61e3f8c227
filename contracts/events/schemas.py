"""JSON Schema documents of the events, one per event type, generated from the models.

Each document is the serialization schema of the event's body (what a producer sends),
with the routing facts of the event table under ``x-message``: exchange, routing key,
producer, consumers, content type and the ``traceparent`` header.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.events.catalog import EVENTS, EXCHANGE_TYPE, EventRoute
from contracts.events.envelope import (
    EVENT_CONTENT_ENCODING,
    EVENT_CONTENT_TYPE,
    TRACEPARENT_HEADER,
    TRACEPARENT_PATTERN,
)

SCHEMA_DIR = Path(__file__).parent
SCHEMA_ID_BASE = "https://ai-migration-kit.dev/schemas/events/"


def schema_filename(event_type: str) -> str:
    """File name of one event's schema inside ``contracts/events/``."""
    return f"{event_type}.schema.json"


def event_schema(route: EventRoute) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one event's body, with its message facts."""
    body = route.model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_ID_BASE}{route.event_type}/v{route.schema_version}",
        **body,
        "x-message": {
            "event_type": route.event_type,
            "schema_version": route.schema_version,
            "exchange": route.exchange,
            "exchange_type": EXCHANGE_TYPE,
            "routing_key": route.routing_key,
            "producer": route.producer,
            "consumers": list(route.consumers),
            "content_type": EVENT_CONTENT_TYPE,
            "content_encoding": EVENT_CONTENT_ENCODING,
            "delivery_mode": 2,
            "headers": {
                "type": "object",
                "properties": {
                    TRACEPARENT_HEADER: {"type": "string", "pattern": TRACEPARENT_PATTERN}
                },
                "required": [TRACEPARENT_HEADER],
            },
        },
    }


def event_schemas() -> dict[str, dict[str, Any]]:
    """Every event's schema, keyed by file name."""
    return {schema_filename(r.event_type): event_schema(r) for r in EVENTS}


def render_json(document: dict[str, Any]) -> str:
    """Stable JSON text (key order kept, two-space indent, final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
