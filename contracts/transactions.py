"""Transactions: the domain record, the ingestion request and its receipt.

The validation rules here are the API's rules: the monolith and the ingestion service both
validate with these models, so one payload is accepted or rejected identically by both.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

from contracts.reference_data import COUNTRIES, CURRENCIES

MAX_BATCH_SIZE = 1000
MAX_AMOUNT = 1_000_000.0
_TIMESTAMP_PATTERN = (
    r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")

Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        examples=["tx-000001"],
    ),
]


class Channel(StrEnum):
    """Where the card was used."""

    WEB = "web"
    POS = "pos"
    ATM = "atm"
    MOBILE = "mobile"


class Transaction(BaseModel):
    """One card transaction. ``transaction_id`` is the client's idempotency key."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    transaction_id: Identifier
    account_id: Identifier = Field(examples=["acct-0042"])
    amount: float = Field(
        gt=0,
        le=MAX_AMOUNT,
        multiple_of=0.01,
        description="Positive, at most two decimals, at most 1,000,000.",
        examples=[42.5],
    )
    currency: str = Field(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code.",
        examples=["EUR"],
        # The validator's list, stated in the schema so that the document is the whole rule.
        json_schema_extra={"enum": list[JsonValue](sorted(CURRENCIES))},
    )
    merchant_category: str = Field(
        pattern=r"^[0-9]{4}$", description="MCC, four digits.", examples=["5411"]
    )
    country: str = Field(
        min_length=2,
        max_length=2,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2.",
        examples=["DE"],
        json_schema_extra={"enum": list[JsonValue](sorted(COUNTRIES))},
    )
    channel: Channel
    timestamp: AwareDatetime = Field(
        description="RFC 3339 with an offset, between 2000 and 2100.",
        examples=["2026-11-25T10:15:00+01:00"],
        # What ``_rfc3339`` and ``_plausible_time`` accept, stated in the schema (the
        # date-time format alone admits any year and lets generators produce them).
        json_schema_extra={"pattern": _TIMESTAMP_PATTERN},
    )
    is_fraud: bool | None = Field(default=None, description="The label, when known.")

    @field_validator("amount", mode="before")
    @classmethod
    def _two_decimals(cls, value: object) -> object:
        # multiple_of on floats is fuzzy; check the decimal text exactly.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        try:
            exponent = Decimal(repr(value)).normalize().as_tuple().exponent
        except InvalidOperation:
            return value
        if isinstance(exponent, int) and exponent < -2:
            raise ValueError("must have at most 2 decimal places")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unknown ISO 4217 currency {value!r}")
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in COUNTRIES:
            raise ValueError(f"unknown ISO 3166-1 alpha-2 country {value!r}")
        return value

    @field_validator("timestamp", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> object:
        # Parse here: strict mode would refuse the string once a before-validator saw it.
        if isinstance(value, str):
            if not _RFC3339.match(value):
                raise ValueError("must be an RFC 3339 date-time with an offset")
            return datetime.fromisoformat(value.upper())
        if isinstance(value, datetime):
            return value
        raise ValueError("must be an RFC 3339 date-time string")

    @field_validator("timestamp")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        if not 2000 <= value.year <= 2100:
            raise ValueError("must be between the years 2000 and 2100")
        return value

    def same_content(self, other: Transaction) -> bool:
        """Whether two submissions with one id carry the same transaction (for idempotency)."""
        return self.model_dump(mode="json") == other.model_dump(mode="json")


class TransactionBatch(BaseModel):
    """A batch of 1 to 1,000 transactions."""

    model_config = ConfigDict(extra="forbid", strict=True)

    transactions: list[Transaction] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class IngestedTransaction(BaseModel):
    """The outcome for one transaction: ``duplicate`` when it was already stored."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: str
    status: Literal["accepted", "duplicate"]
    ingested_at: datetime = Field(description="When the transaction was first accepted.")


class IngestReceipt(BaseModel):
    """The 202 answer to ``POST /api/v1/transactions``."""

    model_config = ConfigDict(extra="forbid")

    accepted: int = Field(ge=0, description="Transactions stored by this request.")
    duplicates: int = Field(ge=0, description="Repeats of transactions already stored.")
    results: list[IngestedTransaction]
