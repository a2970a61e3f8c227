"""The compatibility check catches breaking changes and names the field; additions pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from contracts.compat import check_generated, compare_event_schema, compare_openapi
from contracts.events.schemas import event_schemas
from contracts.openapi import openapi_document
from migration_playbook.cli.app import app


@pytest.fixture
def api() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(openapi_document()))
    return loaded


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"]
    return found


def _texts(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [str(b) for b in compare_openapi(old, new)]


def test_identical_documents_are_compatible(api: dict[str, Any]) -> None:
    assert compare_openapi(api, copy.deepcopy(api)) == []


def test_removed_response_field_is_breaking_and_named(api: dict[str, Any]) -> None:
    new = copy.deepcopy(api)
    prediction = _schemas(new)["Prediction"]
    del prediction["properties"]["score"]
    prediction["required"].remove("score")
    texts = _texts(api, new)
    assert "POST /api/v1/predictions response 200: `score` removed field" in texts


def test_narrowed_input_type_is_breaking_and_named(api: dict[str, Any]) -> None:
    new = copy.deepcopy(api)
    _schemas(new)["Transaction"]["properties"]["merchant_category"]["type"] = "integer"
    texts = _texts(api, new)
    assert any("POST /api/v1/transactions: `merchant_category` narrowed type" in t for t in texts)


def test_tighter_input_bound_is_breaking(api: dict[str, Any]) -> None:
    new = copy.deepcopy(api)
    _schemas(new)["Transaction"]["properties"]["amount"]["maximum"] = 5000
    texts = _texts(api, new)
    assert any("`transactions[].amount` narrowed maximum" in t for t in texts)


def test_new_required_input_is_breaking(api: dict[str, Any]) -> None:
    new = copy.deepcopy(api)
    transaction = _schemas(new)["Transaction"]
    transaction["properties"]["device_id"] = {"type": "string"}
    transaction["required"].append("device_id")
    assert "POST /api/v1/transactions: `device_id` new required input" in _texts(api, new)


def test_new_required_query_parameter_is_breaking(api: dict[str, Any]) -> None:
    new = copy.deepcopy(api)
    new["paths"]["/api/v1/monitoring/drift"]["get"]["parameters"][0]["required"] = True
    texts = _texts(api, new)
    assert any("`query parameter window` new required input" in t for t in texts)


def test_removed_operation_and_new_enum_value_in_output_are_breaking(api: dict[str, Any]) -> None:
    new = copy.deepcopy(api)
    del new["paths"]["/api/v1/models/current"]
    _schemas(new)["Decision"]["enum"].append("escalate")
    texts = _texts(api, new)
    assert "GET /api/v1/models/current: operation removed" in texts
    assert any("`decision` new values a reader does not know" in t for t in texts)


def test_additive_changes_are_compatible(api: dict[str, Any]) -> None:
    new = copy.deepcopy(api)
    _schemas(new)["Prediction"]["properties"]["latency_ms"] = {"type": "number"}
    _schemas(new)["Transaction"]["properties"]["device_id"] = {"type": "string"}
    new["paths"]["/api/v1/new-thing"] = {"get": {"responses": {"200": {"description": "x"}}}}
    assert compare_openapi(api, new) == []


def test_event_field_that_becomes_nullable_is_breaking() -> None:
    old = event_schemas()["model_promoted.schema.json"]
    new = copy.deepcopy(old)
    new["properties"]["model_uri"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    texts = [str(b) for b in compare_event_schema("model_promoted", old, new)]
    assert texts == ["event model_promoted: `model_uri` widened type: may now be null"]


def test_check_against_a_baseline_file_and_the_cli(tmp_path: Path) -> None:
    baseline = json.loads(json.dumps(openapi_document()))
    # The baseline had a response field the models no longer produce.
    _schemas(baseline)["ModelVersion"]["properties"]["owner"] = {"type": "string"}
    _schemas(baseline)["ModelVersion"]["required"].append("owner")
    path = tmp_path / "v1.yaml"
    path.write_text(yaml.safe_dump(baseline))
    report = check_generated(openapi_baseline=path, events_baseline=tmp_path)
    assert not report.ok
    assert any(b.field == "owner" and b.reason == "removed field" for b in report.breaking)

    runner = CliRunner()
    failed = runner.invoke(app, ["contracts", "compat", "--openapi", str(path), "--json"])
    assert failed.exit_code == 1
    body = json.loads(failed.stdout)
    assert body["ok"] is False and any(b["field"] == "owner" for b in body["breaking"])
    current = tmp_path / "current.yaml"
    current.write_text(yaml.safe_dump(json.loads(json.dumps(openapi_document()))))
    passed = runner.invoke(app, ["contracts", "compat", "--openapi", str(current)])
    assert passed.exit_code == 0, passed.output
