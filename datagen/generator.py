"""Realistic labelled traffic with learnable fraud patterns and a drift knob.

Legitimate spending is domestic, daytime, in everyday merchant categories, at amounts near
the category's typical ticket. Fraud (1-3 %) leans towards night-time, foreign and
high-risk countries, risky merchant categories, amount spikes and card-not-present
channels: each pattern alone is weak, together they are learnable. The drift knob shifts
amounts, the category mix, the channel mix and the fraud rate, so that drift and
retraining can be shown on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from contracts.reference_data import HIGH_RISK_COUNTRIES, HIGH_RISK_MCCS
from contracts.transactions import Channel, Transaction

_EVERYDAY_MCCS = ("5411", "5812", "5814", "5541", "5311", "5912", "4111", "4121", "5999")
_EVERYDAY_WEIGHTS = (0.24, 0.16, 0.14, 0.12, 0.08, 0.08, 0.07, 0.05, 0.06)
_TRAVEL_MCCS = ("7011", "4511", "5732", "6011")
_RISKY_MCCS = tuple(sorted(HIGH_RISK_MCCS))
_TYPICAL = {
    "5411": 60.0, "5812": 35.0, "5814": 12.0, "5541": 50.0, "5311": 80.0, "5912": 25.0,
    "4111": 15.0, "4121": 25.0, "5999": 45.0, "7011": 220.0, "4511": 400.0, "5732": 300.0,
    "6011": 120.0, "5944": 500.0, "4829": 250.0, "6051": 200.0, "6540": 150.0,
    "7995": 100.0, "5967": 60.0, "5399": 70.0,
}  # fmt: skip
_HOMES: tuple[tuple[str, str, int], ...] = (
    # currency, home country, UTC offset in hours
    ("EUR", "DE", 1), ("EUR", "FR", 1), ("EUR", "ES", 1), ("EUR", "IT", 1), ("EUR", "NL", 1),
    ("USD", "US", -5), ("USD", "US", -8), ("GBP", "GB", 0), ("CAD", "CA", -5),
    ("AUD", "AU", 10), ("JPY", "JP", 9), ("CHF", "CH", 1), ("SEK", "SE", 1), ("PLN", "PL", 1),
    ("INR", "IN", 5), ("SGD", "SG", 8), ("BRL", "BR", -3), ("MXN", "MX", -6),
)  # fmt: skip
_FOREIGN = ("US", "GB", "FR", "DE", "ES", "IT", "TH", "AE", "TR", "MA", "CN", "ZA", "AR", "KE")
_RISKY_COUNTRIES = tuple(sorted(HIGH_RISK_COUNTRIES))
_CHANNELS = (Channel.POS, Channel.WEB, Channel.MOBILE, Channel.ATM)
_LEGIT_CHANNEL_P = np.array([0.55, 0.22, 0.18, 0.05])
_FRAUD_CHANNEL_P = np.array([0.15, 0.50, 0.30, 0.05])
_DAY_HOURS_P = np.array(
    [1, 0.5, 0.3, 0.3, 0.4, 1, 2, 4, 6, 7, 7, 8, 9, 8, 7, 7, 8, 9, 9, 8, 6, 4, 3, 2], dtype=float
)
_NIGHT_HOURS_P = np.array([6, 7, 7, 7, 6, 4] + [0.5] * 16 + [2, 4], dtype=float)


@dataclass(frozen=True)
class DriftKnob:
    """How far today's traffic is from the training traffic. The default is no drift.

    ``amount_scale`` multiplies every amount; ``category_shift`` (0-1) moves that share of
    legitimate spending to travel and high-risk categories; ``channel_shift`` (0-1) moves
    that share of card-present spending online; ``fraud_rate`` overrides the base rate;
    ``card_testing`` (0-1) is the share of fraud that follows a pattern the history does
    not have: card testing, tiny online purchases at everyday merchants, by day, at home.
    A model trained on the history scores that fraud as harmless; one retrained on the
    new traffic (its labels come with it) learns it.
    """

    amount_scale: float = 1.0
    category_shift: float = 0.0
    channel_shift: float = 0.0
    fraud_rate: float | None = None
    card_testing: float = 0.0

    def __post_init__(self) -> None:
        if not 0.01 <= self.amount_scale <= 100:
            raise ValueError("amount_scale must be between 0.01 and 100")
        for name in ("category_shift", "channel_shift", "card_testing"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.fraud_rate is not None and not 0.0 <= self.fraud_rate <= 0.5:
            raise ValueError("fraud_rate must be between 0 and 0.5")

    @property
    def is_drifted(self) -> bool:
        """Whether any knob is away from its neutral position."""
        return self != DriftKnob()


#: Named settings for demos and tests.
DRIFT_PRESETS: dict[str, DriftKnob] = {
    "none": DriftKnob(),
    "mild": DriftKnob(amount_scale=1.3, category_shift=0.15, channel_shift=0.15),
    "strong": DriftKnob(amount_scale=2.5, category_shift=0.5, channel_shift=0.6),
    "fraud-wave": DriftKnob(fraud_rate=0.08),
    # The closed loop's drift: the traffic moves online and a new kind of fraud appears
    # (card testing) at a higher rate. Monitoring sees the features drift; the champion,
    # trained on the history, misses the new fraud; a model retrained on it does not.
    "card-testing": DriftKnob(channel_shift=0.5, fraud_rate=0.08, card_testing=0.8),
}


class TransactionGenerator:
    """A deterministic stream of transactions: same seed, same sequence.

    Call :meth:`generate` repeatedly to continue the stream (ids and time keep counting).
    """

    def __init__(
        self,
        seed: int = 0,
        drift: DriftKnob | None = None,
        *,
        accounts: int = 2000,
        start: datetime | None = None,
        per_day: int = 2000,
        base_fraud_rate: float = 0.02,
        id_prefix: str = "tx",
    ) -> None:
        if accounts < 1 or per_day < 1:
            raise ValueError("accounts and per_day must be positive")
        self.seed = seed
        self.drift = drift or DriftKnob()
        self.start = start or datetime(2026, 1, 5, tzinfo=UTC)
        self.per_day = per_day
        self.base_fraud_rate = base_fraud_rate
        self.id_prefix = id_prefix
        self._rng = np.random.default_rng(seed)
        homes = self._rng.integers(0, len(_HOMES), size=accounts)
        self._accounts = [(f"acct-{k:05d}", _HOMES[h]) for k, h in enumerate(homes)]
        self._count = 0

    def generate(self, n: int) -> list[Transaction]:
        """The next ``n`` transactions of the stream."""
        if n < 0:
            raise ValueError("n must not be negative")
        return [self._one() for _ in range(n)]

    def _one(self) -> Transaction:
        rng = self._rng
        index = self._count
        self._count += 1
        account_id, (currency, home_country, offset_h) = self._accounts[
            int(rng.integers(0, len(self._accounts)))
        ]
        fraud_rate = self.drift.fraud_rate if self.drift.fraud_rate is not None else None
        is_fraud = bool(rng.random() < (fraud_rate or self.base_fraud_rate))
        # Drawn only when the knob is on, so undrifted streams stay what they always were.
        testing = (
            is_fraud and self.drift.card_testing > 0 and rng.random() < self.drift.card_testing
        )
        hour = self._hour(is_fraud and not testing)
        day = index // self.per_day
        tz = timezone(timedelta(hours=offset_h))
        local = datetime(self.start.year, self.start.month, self.start.day, tzinfo=tz)
        local += timedelta(days=day, hours=hour, seconds=int(rng.integers(0, 3600)))
        if testing:
            mcc = str(rng.choice(_EVERYDAY_MCCS, p=_EVERYDAY_WEIGHTS))
            country = home_country
            channel = Channel.WEB if rng.random() < 0.7 else Channel.MOBILE
            amount = round(float(rng.uniform(0.5, 3.0)), 2)
        else:
            mcc = self._category(is_fraud)
            country = self._country(is_fraud, home_country)
            channel = self._channel(is_fraud, mcc)
            amount = self._amount(is_fraud, mcc)
        return Transaction(
            transaction_id=f"{self.id_prefix}-{self.seed}-{index:08d}",
            account_id=account_id,
            amount=amount,
            currency=currency,
            merchant_category=mcc,
            country=country,
            channel=channel,
            timestamp=local,
            is_fraud=is_fraud,
        )

    def _hour(self, is_fraud: bool) -> int:
        weights = _NIGHT_HOURS_P if is_fraud and self._rng.random() < 0.6 else _DAY_HOURS_P
        return int(self._rng.choice(24, p=weights / weights.sum()))

    def _category(self, is_fraud: bool) -> str:
        rng = self._rng
        if is_fraud and rng.random() < 0.6:
            return str(rng.choice(_RISKY_MCCS))
        if rng.random() < self.drift.category_shift:
            pool = _TRAVEL_MCCS + _RISKY_MCCS
            return str(rng.choice(pool))
        if rng.random() < 0.06:
            return str(rng.choice(_TRAVEL_MCCS))
        return str(rng.choice(_EVERYDAY_MCCS, p=_EVERYDAY_WEIGHTS))

    def _country(self, is_fraud: bool, home: str) -> str:
        rng = self._rng
        if is_fraud and rng.random() < 0.6:
            return str(rng.choice(_RISKY_COUNTRIES if rng.random() < 0.6 else _FOREIGN))
        if rng.random() < 0.05 + 0.25 * self.drift.category_shift:
            return str(rng.choice(_FOREIGN))
        return home

    def _channel(self, is_fraud: bool, mcc: str) -> Channel:
        rng = self._rng
        if mcc == "6011":
            return Channel.ATM
        if is_fraud:
            return _CHANNELS[int(rng.choice(4, p=_FRAUD_CHANNEL_P))]
        channel = _CHANNELS[int(rng.choice(4, p=_LEGIT_CHANNEL_P))]
        if channel is Channel.POS and rng.random() < self.drift.channel_shift:
            return Channel.WEB if rng.random() < 0.6 else Channel.MOBILE
        return channel

    def _amount(self, is_fraud: bool, mcc: str) -> float:
        rng = self._rng
        typical = _TYPICAL.get(mcc, 60.0)
        factor = float(rng.lognormal(mean=0.0, sigma=0.55))
        if is_fraud and rng.random() < 0.6:
            factor *= float(rng.uniform(3.0, 10.0))
        amount = typical * factor * self.drift.amount_scale
        return float(min(max(round(amount, 2), 0.5), 250_000.0))


def generate(
    n: int,
    seed: int = 0,
    drift: DriftKnob | None = None,
    **options: object,
) -> list[Transaction]:
    """``n`` transactions from a fresh stream (see :class:`TransactionGenerator`)."""
    generator = TransactionGenerator(seed, drift, **options)  # type: ignore[arg-type]
    return generator.generate(n)
