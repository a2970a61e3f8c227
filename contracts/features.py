"""The feature spec: how a transaction becomes the model's input vector.

Every side that trains, serves or monitors a model uses this one definition, and it is
versioned: a model records the ``FEATURE_SPEC_VERSION`` it was trained with, and a server
refuses a model whose version it does not implement. The features are stateless (no
account history), so any service can compute them from the transaction alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from contracts.reference_data import (
    CHANNELS,
    CURRENCY_HOME_COUNTRIES,
    DEFAULT_TYPICAL_AMOUNT,
    HIGH_RISK_COUNTRIES,
    HIGH_RISK_MCCS,
    TYPICAL_AMOUNT_BY_MCC,
)
from contracts.transactions import Transaction

FEATURE_SPEC_VERSION = "1"

FEATURE_NAMES: tuple[str, ...] = (
    "amount_log",
    "amount_vs_category",
    "hour_sin",
    "hour_cos",
    "night",
    "weekend",
    "cross_border",
    "high_risk_country",
    "high_risk_mcc",
    *(f"channel_{channel}" for channel in CHANNELS),
)
N_FEATURES = len(FEATURE_NAMES)


def transform(tx: Transaction) -> list[float]:
    """The input vector of one transaction, in ``FEATURE_NAMES`` order."""
    local = tx.timestamp  # keeps the client's offset: hours are local to the transaction
    hour = local.hour + local.minute / 60.0
    typical = TYPICAL_AMOUNT_BY_MCC.get(tx.merchant_category, DEFAULT_TYPICAL_AMOUNT)
    home = CURRENCY_HOME_COUNTRIES.get(tx.currency)
    cross_border = 0.0 if home is None else float(tx.country not in home)
    vector = [
        math.log1p(tx.amount),
        math.log(tx.amount / typical),
        math.sin(2 * math.pi * hour / 24.0),
        math.cos(2 * math.pi * hour / 24.0),
        float(local.hour < 6),
        float(local.weekday() >= 5),
        cross_border,
        float(tx.country in HIGH_RISK_COUNTRIES),
        float(tx.merchant_category in HIGH_RISK_MCCS),
    ]
    vector.extend(float(tx.channel.value == channel) for channel in CHANNELS)
    return vector


def transform_many(transactions: Sequence[Transaction]) -> npt.NDArray[np.float32]:
    """The input matrix of many transactions, shape ``(n, N_FEATURES)``, float32."""
    if not transactions:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    return np.asarray([transform(tx) for tx in transactions], dtype=np.float32)


def is_compatible(version: str) -> bool:
    """Whether a model trained with feature spec ``version`` can be served by this code."""
    return version == FEATURE_SPEC_VERSION
