"""The feature spec: one transaction -> the model's input vector, in FEATURE_NAMES order."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from contracts.features import (
    FEATURE_NAMES,
    FEATURE_SPEC_VERSION,
    N_FEATURES,
    is_compatible,
    transform,
    transform_many,
)
from contracts.transactions import Transaction


def make_tx(**overrides: Any) -> Transaction:
    body: dict[str, Any] = {
        "transaction_id": "tx-1",
        "account_id": "acct-1",
        "amount": 60.0,
        "currency": "EUR",
        "merchant_category": "5411",  # grocery, typical ticket 60
        "country": "DE",
        "channel": "pos",
        "timestamp": "2026-01-07T12:00:00+01:00",  # a Wednesday, noon
    }
    body.update(overrides)
    return Transaction.model_validate(body, strict=False)


def features(**overrides: Any) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, transform(make_tx(**overrides)), strict=True))


def test_the_spec_names_thirteen_features_in_a_fixed_order() -> None:
    assert FEATURE_NAMES == (
        "amount_log",
        "amount_vs_category",
        "hour_sin",
        "hour_cos",
        "night",
        "weekend",
        "cross_border",
        "high_risk_country",
        "high_risk_mcc",
        "channel_web",
        "channel_pos",
        "channel_atm",
        "channel_mobile",
    )
    assert N_FEATURES == len(FEATURE_NAMES) == len(transform(make_tx()))
    assert is_compatible(FEATURE_SPEC_VERSION)
    assert not is_compatible(FEATURE_SPEC_VERSION + ".1")


def test_a_domestic_daytime_grocery_purchase() -> None:
    f = features()
    assert f["amount_log"] == pytest.approx(math.log1p(60.0))
    assert f["amount_vs_category"] == pytest.approx(0.0)  # exactly the typical ticket
    assert f["hour_sin"] == pytest.approx(0.0, abs=1e-12)  # noon
    assert f["hour_cos"] == pytest.approx(-1.0)
    assert f["night"] == 0.0
    assert f["weekend"] == 0.0
    assert f["cross_border"] == 0.0
    assert f["high_risk_country"] == 0.0
    assert f["high_risk_mcc"] == 0.0
    assert [f[f"channel_{c}"] for c in ("web", "pos", "atm", "mobile")] == [0, 1, 0, 0]


def test_amount_is_compared_with_the_category_ticket() -> None:
    assert features(amount=600.0)["amount_vs_category"] == pytest.approx(math.log(10.0))
    # jewellery's typical ticket is 500; an unknown MCC falls back to 60
    assert features(merchant_category="5944", amount=500.0)["amount_vs_category"] == 0.0
    assert features(merchant_category="1234", amount=6.0)["amount_vs_category"] == pytest.approx(
        math.log(0.1)
    )


@pytest.mark.parametrize(
    ("timestamp", "night", "weekend", "hour"),
    [
        ("2026-01-07T03:30:00+01:00", 1.0, 0.0, 3.5),
        ("2026-01-07T05:59:00+01:00", 1.0, 0.0, 5 + 59 / 60),
        ("2026-01-07T06:00:00+01:00", 0.0, 0.0, 6.0),
        ("2026-01-07T00:00:00Z", 1.0, 0.0, 0.0),
        ("2026-01-10T15:00:00+01:00", 0.0, 1.0, 15.0),  # Saturday
        ("2026-01-11T23:45:00+01:00", 0.0, 1.0, 23.75),  # Sunday
        ("2026-01-12T01:00:00+01:00", 1.0, 0.0, 1.0),  # Monday night
    ],
)
def test_night_weekend_and_hour(timestamp: str, night: float, weekend: float, hour: float) -> None:
    f = features(timestamp=timestamp)
    assert f["night"] == night
    assert f["weekend"] == weekend
    assert f["hour_sin"] == pytest.approx(math.sin(2 * math.pi * hour / 24))
    assert f["hour_cos"] == pytest.approx(math.cos(2 * math.pi * hour / 24))


def test_the_local_hour_uses_the_timestamps_own_offset() -> None:
    # One instant, three offsets: Saturday 03:00 in Tokyo is Friday 18:00 in UTC.
    tokyo = features(timestamp="2026-01-10T03:00:00+09:00", currency="JPY", country="JP")
    utc = features(timestamp="2026-01-09T18:00:00+00:00", currency="JPY", country="JP")
    assert (tokyo["night"], tokyo["weekend"]) == (1.0, 1.0)
    assert (utc["night"], utc["weekend"]) == (0.0, 0.0)
    assert tokyo["hour_cos"] == pytest.approx(math.cos(2 * math.pi * 3 / 24))
    assert utc["hour_cos"] == pytest.approx(math.cos(2 * math.pi * 18 / 24))


@pytest.mark.parametrize(
    ("currency", "country", "expected"),
    [
        ("EUR", "DE", 0.0),
        ("EUR", "FR", 0.0),
        ("EUR", "US", 1.0),
        ("USD", "US", 0.0),
        ("USD", "PR", 0.0),
        ("GBP", "FR", 1.0),
        ("CHF", "LI", 0.0),
        ("THB", "TH", 0.0),  # a currency without a home table is never cross-border
        ("THB", "US", 0.0),
    ],
)
def test_cross_border(currency: str, country: str, expected: float) -> None:
    assert features(currency=currency, country=country)["cross_border"] == expected


def test_high_risk_flags() -> None:
    assert features(country="NG")["high_risk_country"] == 1.0
    assert features(country="NG")["cross_border"] == 1.0
    assert features(country="FR")["high_risk_country"] == 0.0
    assert features(merchant_category="7995")["high_risk_mcc"] == 1.0
    assert features(merchant_category="5812")["high_risk_mcc"] == 0.0


@pytest.mark.parametrize("channel", ["web", "pos", "atm", "mobile"])
def test_channel_is_one_hot(channel: str) -> None:
    f = features(channel=channel)
    hot = [name for name in FEATURE_NAMES if name.startswith("channel_") and f[name] == 1.0]
    assert hot == [f"channel_{channel}"]


def test_transform_many_stacks_rows_as_float32() -> None:
    rows = [make_tx(amount=a) for a in (1.0, 60.0, 1000.0)]
    matrix = transform_many(rows)
    assert matrix.shape == (3, N_FEATURES)
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(matrix[1], np.asarray(transform(rows[1]), dtype=np.float32))
    empty = transform_many([])
    assert empty.shape == (0, N_FEATURES)
    assert empty.dtype == np.float32
