"""Request-body parsing and transaction validation: the API's rules, shared by every side."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from contracts.payloads import PayloadError, load_json, parse_model, parse_transactions
from contracts.registry import TrainingRunRequest
from contracts.transactions import MAX_AMOUNT, MAX_BATCH_SIZE, Channel, Transaction


def tx(**overrides: Any) -> dict[str, Any]:
    """A valid transaction as the client sends it; ``overrides`` replace or (None) drop keys."""
    body: dict[str, Any] = {
        "transaction_id": "tx-000001",
        "account_id": "acct-0042",
        "amount": 42.5,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "DE",
        "channel": "pos",
        "timestamp": "2026-11-25T10:15:00+01:00",
        "is_fraud": False,
    }
    for key, value in overrides.items():
        if value is _DROP:
            body.pop(key)
        else:
            body[key] = value
    return body


_DROP = object()


def raw(document: object) -> bytes:
    return json.dumps(document).encode()


def rejected(body: bytes) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        parse_transactions(body)
    return caught.value


def fields(error: PayloadError) -> list[str]:
    return [e.field for e in error.errors]


# -- accepted -------------------------------------------------------------------------------
def test_a_good_single_transaction_parses_into_the_model() -> None:
    parsed = parse_transactions(raw(tx()))

    assert parsed.is_batch is False
    (only,) = parsed.transactions
    assert only.transaction_id == "tx-000001"
    assert only.amount == 42.5
    assert only.channel is Channel.POS
    assert only.timestamp.utcoffset() is not None
    assert only.timestamp.isoformat() == "2026-11-25T10:15:00+01:00"
    assert only.is_fraud is False


def test_a_good_batch_keeps_order_and_says_it_was_a_batch() -> None:
    items = [tx(transaction_id=f"tx-{i}") for i in range(3)]
    parsed = parse_transactions(raw({"transactions": items}))

    assert parsed.is_batch is True
    assert [t.transaction_id for t in parsed.transactions] == ["tx-0", "tx-1", "tx-2"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 1},  # an integer is a number
        {"amount": 0.01},
        {"amount": MAX_AMOUNT},
        {"amount": 19.99},
        {"is_fraud": None},
        {"is_fraud": _DROP},
        {"timestamp": "2026-11-25t10:15:00z"},
        {"timestamp": "2026-11-25T10:15:00.123456789-05:30"},
        {"timestamp": "2000-01-01T00:00:00Z"},
        {"timestamp": "2100-12-31T23:59:59+00:00"},
        {"transaction_id": "a" * 64},
        {"currency": "JPY", "country": "JP", "channel": "mobile"},
    ],
)
def test_edge_values_inside_the_rules_are_accepted(overrides: dict[str, Any]) -> None:
    parsed = parse_transactions(raw(tx(**overrides)))
    assert len(parsed.transactions) == 1


def test_a_batch_of_exactly_the_maximum_is_accepted() -> None:
    items = [tx(transaction_id=f"tx-{i}") for i in range(MAX_BATCH_SIZE)]
    assert len(parse_transactions(raw({"transactions": items})).transactions) == MAX_BATCH_SIZE


# -- malformed: 400 -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"{", b'{"amount": }', b"not json", b"\xff\xfe\x00", b'{"a": 1}}'],
)
def test_malformed_json_is_a_400(body: bytes) -> None:
    error = rejected(body)
    assert error.status == 400
    assert error.title == "Malformed JSON"
    assert error.detail


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"transactions":' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b'{"amount": ' + b"9" * 5_000 + b"}",
    ],
    ids=["deeply-nested", "deeply-nested-batch", "integer-with-5000-digits"],
)
def test_hostile_json_is_a_400_not_a_crash(body: bytes) -> None:
    error = rejected(body)
    assert error.status == 400


# -- invalid: 422 with field paths ----------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "42.50"}, "amount"),  # a string is not a number
        ({"amount": True}, "amount"),  # nor is a boolean
        ({"amount": None}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": MAX_AMOUNT + 0.01}, "amount"),
        ({"amount": 1e300}, "amount"),
        ({"amount": 10.005}, "amount"),
        ({"amount": 0.001}, "amount"),
        ({"amount": 0.1 + 0.2}, "amount"),
        ({"currency": "ABC"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"currency": 978}, "currency"),
        ({"country": "ZZ"}, "country"),
        ({"country": "de"}, "country"),
        ({"channel": "fax"}, "channel"),
        ({"channel": "POS"}, "channel"),
        ({"merchant_category": "541"}, "merchant_category"),
        ({"merchant_category": 5411}, "merchant_category"),
        ({"timestamp": "2026-11-25T10:15:00"}, "timestamp"),  # naive
        ({"timestamp": "2026-11-25 10:15:00+01:00"}, "timestamp"),
        ({"timestamp": "2026-02-30T10:15:00Z"}, "timestamp"),
        ({"timestamp": "1999-12-31T23:59:59Z"}, "timestamp"),
        ({"timestamp": "2101-01-01T00:00:00Z"}, "timestamp"),
        ({"timestamp": 1764062100}, "timestamp"),
        ({"is_fraud": "true"}, "is_fraud"),
        ({"is_fraud": 1}, "is_fraud"),
        ({"transaction_id": ""}, "transaction_id"),
        ({"transaction_id": "a" * 65}, "transaction_id"),
        ({"transaction_id": "has space"}, "transaction_id"),
        ({"transaction_id": 17}, "transaction_id"),
        ({"account_id": _DROP}, "account_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_each_broken_field_is_a_422_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    error = rejected(raw(tx(**overrides)))

    assert error.status == 422
    assert error.title == "Request validation failed"
    assert fields(error) == [field]
    assert error.errors[0].message
    assert field in error.detail


def test_the_messages_say_what_is_wrong() -> None:
    assert "2 decimal" in rejected(raw(tx(amount=1.234))).errors[0].message
    assert "currency" in rejected(raw(tx(currency="ABC"))).errors[0].message
    assert "country" in rejected(raw(tx(country="ZZ"))).errors[0].message
    assert "offset" in rejected(raw(tx(timestamp="2026-11-25T10:15:00"))).errors[0].message
    assert "2000" in rejected(raw(tx(timestamp="1999-01-01T00:00:00Z"))).errors[0].message


def test_errors_in_a_batch_carry_the_index_path() -> None:
    items = [tx(transaction_id=f"tx-{i}") for i in range(5)]
    items[3]["amount"] = -1
    items[4]["channel"] = "fax"

    error = rejected(raw({"transactions": items}))

    assert error.status == 422
    assert fields(error) == ["transactions[3].amount", "transactions[4].channel"]


def test_a_batch_over_the_limit_is_rejected_before_validating_items() -> None:
    items = [{"junk": i} for i in range(MAX_BATCH_SIZE + 1)]

    error = rejected(raw({"transactions": items}))

    assert error.status == 422
    assert fields(error) == ["transactions"]
    assert "1001" in error.errors[0].message


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"transactions": []}, "transactions"),
        ({"transactions": None}, "transactions"),
        ({"transactions": {"0": {}}}, "transactions"),
        ({"transactions": [tx()], "extra": True}, "extra"),
        ({"transactions": ["tx-1"]}, "transactions[0]"),
    ],
)
def test_bad_batch_shapes_are_422(document: object, field: str) -> None:
    error = rejected(raw(document))
    assert error.status == 422
    assert field in fields(error)


@pytest.mark.parametrize("document", [[tx()], "tx", 42, None, True])
def test_a_body_that_is_not_an_object_is_a_422_on_body(document: object) -> None:
    error = rejected(raw(document))
    assert error.status == 422
    assert fields(error) == ["body"]


def test_more_than_five_errors_are_summarised_in_detail() -> None:
    error = rejected(raw({}))
    assert len(error.errors) == 8  # every required field
    assert error.detail.endswith("and 3 more")


def test_load_json_returns_the_document() -> None:
    assert load_json(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}


# -- other bodies ---------------------------------------------------------------------------
def test_parse_model_is_strict_about_types() -> None:
    assert parse_model(TrainingRunRequest, b'{"epochs": 3}').epochs == 3
    # JSON's 24.0 is an integer (the contract's `integer` takes it): so says schemathesis
    whole = parse_model(TrainingRunRequest, b'{"epochs": 24.0, "max_rows": 1e3, "seed": 0.0}')
    assert (whole.epochs, whole.max_rows, whole.seed) == (24, 1000, 0)
    assert isinstance(whole.epochs, int)
    for body in (b'{"epochs": "3"}', b'{"epochs": 3.5}', b'{"promote": "yes"}', b'{"x": 1}'):
        with pytest.raises(PayloadError) as caught:
            parse_model(TrainingRunRequest, body)
        assert caught.value.status == 422


def test_training_window_must_be_ordered_and_aware() -> None:
    with pytest.raises(PayloadError):
        parse_model(
            TrainingRunRequest,
            b'{"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}',
        )
    with pytest.raises(PayloadError):
        parse_model(TrainingRunRequest, b'{"since": "2026-02-01T00:00:00"}')


def test_same_content_compares_the_whole_transaction() -> None:
    one = Transaction.model_validate_json(raw(tx()))
    same = Transaction.model_validate_json(raw(tx()))
    other = Transaction.model_validate_json(raw(tx(amount=42.51)))
    assert one.same_content(same)
    assert not one.same_content(other)


def test_python_datetimes_are_accepted_when_built_in_code() -> None:
    values = {**tx(), "channel": Channel.POS}
    values.pop("timestamp")
    built = Transaction(**values, timestamp=datetime.fromisoformat("2026-01-05T10:00:00+00:00"))
    assert built.timestamp.year == 2026
