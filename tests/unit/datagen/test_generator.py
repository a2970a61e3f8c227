"""The seeded generator: deterministic, realistic fraud rate, and a drift knob that works."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from contracts.features import FEATURE_NAMES, transform_many
from contracts.payloads import parse_transactions
from contracts.reference_data import HIGH_RISK_MCCS
from contracts.transactions import Channel, Transaction
from datagen import DRIFT_PRESETS, DriftKnob, TransactionGenerator, generate

N = 10_000


@pytest.fixture(scope="module")
def baseline() -> list[Transaction]:
    return generate(N, seed=5)


def column(transactions: list[Transaction], name: str) -> np.ndarray:
    return transform_many(transactions)[:, FEATURE_NAMES.index(name)]


def test_the_same_seed_gives_the_same_transactions() -> None:
    assert generate(300, seed=9) == generate(300, seed=9)
    assert generate(300, seed=9) != generate(300, seed=10)


def test_the_stream_continues_where_it_stopped() -> None:
    stream = TransactionGenerator(seed=4)
    assert stream.generate(50) + stream.generate(70) == generate(120, seed=4)
    assert stream.generate(0) == []
    with pytest.raises(ValueError):
        stream.generate(-1)


def test_ids_are_unique_and_everything_passes_the_api_validation(
    baseline: list[Transaction],
) -> None:
    assert len({t.transaction_id for t in baseline}) == N
    sample = [t.model_dump(mode="json") for t in baseline[:1000]]
    parsed = parse_transactions(json.dumps({"transactions": sample}).encode())
    assert parsed.transactions == baseline[:1000]


def test_the_fraud_rate_is_between_one_and_three_percent(baseline: list[Transaction]) -> None:
    rate = sum(bool(t.is_fraud) for t in baseline) / N
    assert 0.01 <= rate <= 0.03


def test_fraud_follows_the_learnable_patterns(baseline: list[Transaction]) -> None:
    fraud = np.array([bool(t.is_fraud) for t in baseline])
    for feature in ("night", "cross_border", "high_risk_mcc", "high_risk_country"):
        values = column(baseline, feature)
        assert values[fraud].mean() > 3 * values[~fraud].mean(), feature
    spikes = column(baseline, "amount_vs_category")
    assert spikes[fraud].mean() > spikes[~fraud].mean() + 0.5


@pytest.mark.parametrize(
    "knob",
    [
        {"amount_scale": 0.0},
        {"amount_scale": 101.0},
        {"category_shift": -0.1},
        {"category_shift": 1.01},
        {"channel_shift": 2.0},
        {"fraud_rate": 0.6},
        {"fraud_rate": -0.01},
    ],
)
def test_the_drift_knob_refuses_out_of_range_settings(knob: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DriftKnob(**knob)


def test_generator_options_are_validated() -> None:
    with pytest.raises(ValueError):
        TransactionGenerator(accounts=0)
    with pytest.raises(ValueError):
        TransactionGenerator(per_day=0)


def test_the_neutral_knob_is_no_drift() -> None:
    assert not DRIFT_PRESETS["none"].is_drifted
    assert all(knob.is_drifted for name, knob in DRIFT_PRESETS.items() if name != "none")
    assert generate(200, seed=3, drift=DRIFT_PRESETS["none"]) == generate(200, seed=3)


def _shares(transactions: list[Transaction]) -> dict[str, float]:
    n = len(transactions)
    channels = Counter(t.channel for t in transactions)
    travel_or_risky = {"7011", "4511", "5732", "6011"} | HIGH_RISK_MCCS
    return {
        "log_amount": float(np.mean([math.log(t.amount) for t in transactions])),
        "pos": channels[Channel.POS] / n,
        "card_not_present": (channels[Channel.WEB] + channels[Channel.MOBILE]) / n,
        "travel_or_risky": sum(t.merchant_category in travel_or_risky for t in transactions) / n,
        "fraud": sum(bool(t.is_fraud) for t in transactions) / n,
    }


def test_the_strong_preset_shifts_amounts_categories_and_channels(
    baseline: list[Transaction],
) -> None:
    base = _shares(baseline)
    strong = _shares(generate(N, seed=6, drift=DRIFT_PRESETS["strong"]))

    # x2.5 on every amount, plus the pricier travel and high-risk categories it moves to
    assert strong["log_amount"] - base["log_amount"] > math.log(2.5) - 0.05
    assert strong["travel_or_risky"] > base["travel_or_risky"] + 0.3
    assert strong["pos"] < base["pos"] - 0.2
    assert strong["card_not_present"] > base["card_not_present"] + 0.2
    assert strong["fraud"] == pytest.approx(base["fraud"], abs=0.01)


def test_the_mild_preset_shifts_less_than_the_strong_one(baseline: list[Transaction]) -> None:
    base = _shares(baseline)
    mild = _shares(generate(N, seed=6, drift=DRIFT_PRESETS["mild"]))
    strong = _shares(generate(N, seed=6, drift=DRIFT_PRESETS["strong"]))
    for key in ("log_amount", "travel_or_risky"):
        assert base[key] < mild[key] < strong[key], key
    assert base["pos"] > mild["pos"] > strong["pos"]


def test_the_fraud_wave_preset_raises_the_fraud_rate_only(baseline: list[Transaction]) -> None:
    base = _shares(baseline)
    wave = _shares(generate(N, seed=6, drift=DRIFT_PRESETS["fraud-wave"]))
    assert wave["fraud"] == pytest.approx(0.08, abs=0.01)
    assert wave["fraud"] > 3 * base["fraud"]


def test_each_knob_alone_moves_its_own_marginal(baseline: list[Transaction]) -> None:
    base = _shares(baseline)
    neutral = DriftKnob()
    amounts = _shares(generate(N, seed=6, drift=replace(neutral, amount_scale=0.5)))
    channels = _shares(generate(N, seed=6, drift=replace(neutral, channel_shift=1.0)))
    assert amounts["log_amount"] - base["log_amount"] == pytest.approx(math.log(0.5), abs=0.1)
    assert amounts["pos"] == pytest.approx(base["pos"], abs=0.02)
    assert channels["pos"] < 0.1 < base["pos"]
    assert channels["log_amount"] == pytest.approx(base["log_amount"], abs=0.05)
