"""The message-pact mechanism, proven on ``model_promoted`` (training -> inference).

No producer or consumer of an event exists in the kit yet (they come with the services),
so the handler and the builder here are small real ones written against the contract
models; the pacts they record go to a temporary folder, not ``contracts/pacts/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pact.error import PactVerificationError

from contracts.events import Event, EventMessage, ModelPromoted, new_traceparent
from migration_playbook.gates.message_pacts import record_message_pact, verify_message_pacts


class HotSwapConsumer:
    """Inference's side: swap to the promoted version once per event_id (idempotent)."""

    def __init__(self) -> None:
        self.serving: str | None = None
        self.seen: set[str] = set()
        self.traces: list[str] = []

    def handle(self, event: Event, headers: Mapping[str, str]) -> None:
        assert isinstance(event, ModelPromoted)
        if event.event_id in self.seen:
            return
        if not event.model_uri.startswith("models:/"):
            raise ValueError(f"cannot load {event.model_uri!r}")
        self.seen.add(event.event_id)
        self.serving = event.model_version
        self.traces.append(headers["traceparent"])


def _example() -> ModelPromoted:
    return ModelPromoted(
        model_version="3",
        previous_version="2",
        model_uri="models:/risk-scorer/3",
        feature_spec_version="1",
        promoted_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    )


def build_model_promoted() -> EventMessage:
    """Training's side: the message as its publisher would send it."""
    event = ModelPromoted(
        model_version="7",
        previous_version=None,
        model_uri="models:/risk-scorer/7",
        feature_spec_version="1",
        promoted_at=datetime.now(UTC),
        reason="rollback",
    )
    return event.to_message(traceparent=new_traceparent())


def test_consumer_handler_and_producer_builder_agree(tmp_path: Path) -> None:
    consumer = HotSwapConsumer()
    written = record_message_pact("inference", _example(), consumer.handle, tmp_path)
    assert consumer.serving == "3" and len(consumer.traces) == 1
    document = json.loads(written.read_text())
    assert document["consumer"]["name"] == "inference"
    assert document["provider"]["name"] == "training"
    assert document["interactions"][0]["type"] == "Asynchronous/Messages"

    result = verify_message_pacts("training", {"model_promoted": build_model_promoted}, [tmp_path])
    assert result.passed, result.output


def test_a_builder_that_renames_a_field_fails_verification(tmp_path: Path) -> None:
    record_message_pact("inference", _example(), HotSwapConsumer().handle, tmp_path)

    def renamed() -> EventMessage:
        good = build_model_promoted()
        body = json.loads(good.body)
        body["version"] = body.pop("model_version")
        return EventMessage(good.routing_key, json.dumps(body).encode(), good.headers)

    result = verify_message_pacts("training", {"model_promoted": renamed}, [tmp_path])
    assert not result.passed
    assert "model_version" in result.output


def test_a_consumer_whose_handler_fails_cannot_record_its_pact(tmp_path: Path) -> None:
    example = _example().model_copy(update={"model_uri": "s3://elsewhere/3"})
    with pytest.raises(PactVerificationError):
        record_message_pact("inference", example, HotSwapConsumer().handle, tmp_path)
    assert not list(tmp_path.glob("*.json"))


def test_only_consumers_in_the_event_table_may_record(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a consumer"):
        record_message_pact("monitoring", _example(), HotSwapConsumer().handle, tmp_path)
    with pytest.raises(ValueError, match="does not produce"):
        verify_message_pacts("inference", {"model_promoted": build_model_promoted}, [tmp_path])
