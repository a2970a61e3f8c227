"""Message pacts: one event type between its producer and one consumer.

Consumer side, :func:`record_message_pact` describes the event the consumer needs (by type,
from an example built with the contract model), feeds the pact's message to the
consumer's *real* handler (parsed with the event model, ``traceparent`` from the
metadata) and writes the pact. Provider side, :func:`verify_message_pacts` has Pact ask the
producer's *real* message builder for each described message and match it. The event
table (``contracts.events.EVENTS``) decides who may consume what.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pact import Pact, Verifier, match

from contracts.events import TRACEPARENT_HEADER, Event, EventMessage, route_for
from contracts.events.envelope import TRACEPARENT_PATTERN

#: A consumer's handler: the parsed event and the message headers (``traceparent``).
EventHandler = Callable[[Event, Mapping[str, str]], None]
_EXAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def message_description(event_type: str, version: int) -> str:
    """The interaction name both sides use: the event type and its schema version."""
    return f"a {event_type} event, schema v{version}"


def _nullable(event: Event) -> set[str]:
    """Nullable fields, except those whose example is an object: Pact's "type OR null" rule
    on an object fails even against an identical object (pact-python 4.2), so an object in
    the example is matched by type (the consumer described it, so it needs it)."""
    properties = type(event).model_json_schema(mode="serialization")["properties"]
    body = event.model_dump(mode="json")
    return {
        name
        for name, spec in properties.items()
        if any(branch.get("type") == "null" for branch in spec.get("anyOf", []))
        and not isinstance(body.get(name), dict)
    }


def _nullable_rules(event: Event) -> dict[str, Any]:
    """Pact V4 rules accepting either the example's type or null for nullable fields."""
    body = event.model_dump(mode="json")
    rules: dict[str, Any] = {}
    for name in sorted(_nullable(event)):
        matchers: list[dict[str, str]] = [{"match": "null"}]
        if body.get(name) is not None:
            matchers.insert(0, {"match": "type"})
        rules[f"$.{name}"] = {"combine": "OR", "matchers": matchers}
    return {"body": rules} if rules else {}


def _body_matcher(event: Event) -> Any:
    body = event.model_dump(mode="json")
    # Type matching for every value, except the facts that route and version the event.
    # Nullable fields get "type OR null" rules (see ``_nullable_rules``) instead.
    nullable = _nullable(event)
    matched: dict[str, Any] = {k: (v if k in nullable else match.like(v)) for k, v in body.items()}
    matched["event_type"] = body["event_type"]
    matched["schema_version"] = body["schema_version"]
    return matched


def record_message_pact(
    consumer: str,
    example: Event,
    handler: EventHandler,
    pact_dir: Path,
) -> Path:
    """Describe ``example``'s event for ``consumer``, prove the handler takes it, write it.

    Raises ``ValueError`` when the event table does not list ``consumer`` for the event,
    and Pact's ``PactVerificationError`` when the handler fails on the message.
    """
    route = route_for(example.event_type)
    if consumer not in route.consumers:
        raise ValueError(
            f"{consumer!r} is not a consumer of {route.event_type!r} in the event table "
            f"(consumers: {', '.join(route.consumers)})"
        )
    pact = Pact(consumer, route.producer).with_specification("V4")
    (
        pact.upon_receiving(message_description(route.event_type, route.schema_version), "Async")
        .with_body(_body_matcher(example), content_type="application/json")
        .with_matching_rules(_nullable_rules(example))
        .with_metadata(
            {
                "contentType": "application/json",
                "routing_key": route.routing_key,
                "exchange": route.exchange,
                TRACEPARENT_HEADER: match.regex(_EXAMPLE_TRACEPARENT, regex=TRACEPARENT_PATTERN),
            }
        )
    )

    def _deliver(body: str | bytes | None, metadata: dict[str, object]) -> None:
        if body is None:
            raise ValueError("the message has no body")
        event = route.model.from_message(body)
        headers = {k: str(v) for k, v in metadata.items() if k == TRACEPARENT_HEADER}
        handler(event, headers)

    pact.verify(_deliver, "Async")
    pact_dir.mkdir(parents=True, exist_ok=True)
    pact.write_file(pact_dir)
    return pact_dir / f"{consumer}-{route.producer}.json"


@dataclass(frozen=True)
class MessageVerification:
    """The result of verifying a producer's message pacts."""

    producer: str
    passed: bool
    output: str
    results: dict[str, Any]


def verify_message_pacts(
    producer: str,
    builders: Mapping[str, Callable[[], EventMessage]],
    pact_sources: list[Path],
) -> MessageVerification:
    """Have Pact check each described event against the producer's real builder.

    ``builders`` maps an event type to a function that builds the message exactly as the
    producer publishes it (``Event.to_message``).
    """
    by_description: dict[str, Any] = {}
    for event_type, build in builders.items():
        route = route_for(event_type)
        if route.producer != producer:
            raise ValueError(f"{producer!r} does not produce {event_type!r}")

        def _produce(build: Callable[[], EventMessage] = build) -> dict[str, Any]:
            message = build()
            return {
                "contents": message.body,
                "metadata": {
                    "routing_key": message.routing_key,
                    "exchange": route_for(message.routing_key).exchange,
                    **message.headers,
                },
                "content_type": message.content_type,
            }

        by_description[message_description(event_type, route.schema_version)] = _produce
    verifier = Verifier(producer, host="127.0.0.1").message_handler(by_description)
    for source in pact_sources:
        verifier.add_source(source)
    try:
        verifier.verify()
        passed = True
    except RuntimeError:
        passed = False
    return MessageVerification(
        producer, passed, verifier.output(strip_ansi=True), json.loads(json.dumps(verifier.results))
    )
