"""The JSON-aware comparison: tolerance, ignores, decisions."""

from __future__ import annotations

import json

from strangler_proxy.compare import Comparator
from strangler_proxy.route_table import CompareSpec


def _cmp(a, b, **spec):
    return Comparator(CompareSpec(**spec)).compare(
        200, json.dumps(a).encode(), 200, json.dumps(b).encode()
    )


def test_absolute_and_relative_tolerance() -> None:
    assert _cmp({"s": 0.5}, {"s": 0.5000001}, abs_tol=1e-6).matched
    assert not _cmp({"s": 0.5}, {"s": 0.5001}, abs_tol=1e-6).matched
    assert _cmp({"n": 1000.0}, {"n": 1000.9}, rel_tol=0.001).matched
    assert not _cmp({"n": 1000.0}, {"n": 1002.0}, rel_tol=0.001).matched
    assert _cmp({"n": 1}, {"n": 1.0}).matched
    assert not _cmp({"n": True}, {"n": 1}).matched


def test_ignores_by_key_anywhere_and_by_json_path() -> None:
    a = {
        "prediction_id": "a",
        "predictions": [{"prediction_id": "x", "explanation": [1]}],
        "meta": {"trace": 1},
    }
    b = {
        "prediction_id": "b",
        "predictions": [{"prediction_id": "y", "explanation": [2]}],
        "meta": {"trace": 2},
    }
    assert not _cmp(a, b, ignore=["prediction_id"]).matched
    assert _cmp(
        a, b, ignore=["prediction_id", "$.predictions[*].explanation", "meta.trace"]
    ).matched
    result = _cmp(a, b, ignore=["prediction_id", "$.predictions[0].explanation"])
    assert [d.path for d in result.differences] == ["$.meta.trace"]


def test_differences_say_where_and_why() -> None:
    result = _cmp({"a": [1, 2], "b": "x", "c": 1}, {"a": [1], "b": "y", "d": 2})
    assert {(d.path, d.reason) for d in result.differences} == {
        ("$.a", "array lengths differ"),
        ("$.b", "values differ"),
        ("$.c", "missing in candidate"),
        ("$.d", "extra in candidate"),
    }


def test_status_and_non_json() -> None:
    comparator = Comparator(CompareSpec())
    assert not comparator.compare(200, b"{}", 500, b"{}").matched
    assert comparator.compare(200, b"plain", 200, b"plain").matched
    assert (
        comparator.compare(200, b"plain", 200, b"other").differences[0].reason
        == "non-JSON bodies differ"
    )


def test_decision_agreement_single_and_batch() -> None:
    single = _cmp({"decision": "approve", "score": 0.1}, {"decision": "approve", "score": 0.2})
    assert (single.decisions_total, single.decisions_agreed) == (1, 1)
    batch = _cmp(
        {"predictions": [{"decision": "approve"}, {"decision": "review"}, {"decision": "decline"}]},
        {
            "predictions": [
                {"decision": "approve"},
                {"decision": "decline"},
                {"decision": "decline"},
            ]
        },
    )
    assert (batch.decisions_total, batch.decisions_agreed) == (3, 2)
