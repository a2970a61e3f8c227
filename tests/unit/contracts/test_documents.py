"""The committed OpenAPI document and event schemas are exactly what the models generate."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml
from pydantic import Field

from contracts import generate
from contracts.events import EVENTS, ModelPromoted
from contracts.events.schemas import SCHEMA_DIR, schema_filename
from contracts.monitoring import Health
from contracts.openapi import OPERATIONS, V1_PATH, openapi_document, render_yaml


def test_committed_documents_are_up_to_date() -> None:
    stale = generate.stale_documents() + generate.orphan_schemas()
    assert not stale, f"run `make contracts` and commit: {[p.name for p in stale]}"


def test_a_model_change_without_regenerating_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    import contracts.events.schemas as schemas
    import contracts.openapi.document as document

    class HealthWithVersion(Health):
        version: str = Field(description="A new field nobody regenerated for.")

    operations = tuple(
        replace(op, replies=(replace(op.replies[0], model=HealthWithVersion),))
        if op.operation_id == "getHealth"
        else op
        for op in document.OPERATIONS
    )
    monkeypatch.setattr(document, "OPERATIONS", operations)

    class PromotedWithReason(ModelPromoted):
        approved_by: str

    routes = tuple(
        replace(r, model=PromotedWithReason) if r.event_type == "model_promoted" else r
        for r in schemas.EVENTS
    )
    monkeypatch.setattr(schemas, "EVENTS", routes)
    stale = set(generate.stale_documents())
    assert stale == {V1_PATH, SCHEMA_DIR / schema_filename("model_promoted")}


def test_check_mode_exits_non_zero_on_a_stale_document(monkeypatch: pytest.MonkeyPatch) -> None:
    real = generate.generated_documents()
    monkeypatch.setattr(
        generate, "generated_documents", lambda: {V1_PATH: real[V1_PATH] + "# drift\n"}
    )
    assert generate.main(["--check"]) == 1


def test_openapi_document_covers_every_operation_and_problem_responses() -> None:
    document = yaml.safe_load(V1_PATH.read_text())
    assert document["openapi"].startswith("3.1")
    for op in OPERATIONS:
        spec = document["paths"][op.path][op.method]
        assert spec["operationId"] == op.operation_id
        for status, response in spec["responses"].items():
            if int(status) >= 400 and op.operation_id != "getReadiness":  # 503 is a result
                assert list(response["content"]) == ["application/problem+json"]
    ingest = document["paths"]["/api/v1/transactions"]["post"]["requestBody"]
    refs = [b["$ref"] for b in ingest["content"]["application/json"]["schema"]["anyOf"]]
    assert refs == ["#/components/schemas/Transaction", "#/components/schemas/TransactionBatch"]
    window = document["paths"]["/api/v1/monitoring/drift"]["get"]["parameters"][0]
    assert window["schema"] == {
        "type": "integer",
        "minimum": 50,
        "maximum": 100000,
        "default": 1000,
    }
    assert render_yaml(openapi_document()) == V1_PATH.read_text()


def test_one_schema_file_per_event_with_envelope_and_routing() -> None:
    files = sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json"))
    assert files == sorted(schema_filename(r.event_type) for r in EVENTS)
    for route in EVENTS:
        schema = json.loads((SCHEMA_DIR / schema_filename(route.event_type)).read_text())
        assert {"event_id", "occurred_at", "schema_version", "event_type"} <= set(
            schema["required"]
        )
        message = schema["x-message"]
        assert message["exchange"] == f"{route.producer}.events"
        assert message["routing_key"] == route.event_type
        assert "traceparent" in message["headers"]["required"]


def test_event_round_trip_and_traceparent() -> None:
    event = ModelPromoted(
        model_version="2",
        previous_version="1",
        model_uri="models:/risk-scorer/2",
        feature_spec_version="1",
        promoted_at="2026-11-25T10:00:00Z",  # type: ignore[arg-type]
    )
    message = event.to_message(traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    assert message.routing_key == "model_promoted"
    assert ModelPromoted.from_message(message.body) == event
    body = json.loads(message.body)
    body["added_in_a_later_minor"] = True  # tolerant reader
    assert ModelPromoted.from_message(json.dumps(body)).event_id == event.event_id
    with pytest.raises(ValueError, match="traceparent"):
        event.to_message(traceparent="not-a-trace")
