"""The structured result every gate returns, so that a failure explains itself."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INSUFFICIENT_DATA = "insufficient-data"


class Measurement(BaseModel):
    """One measured value against its threshold (``ok`` says whether it holds)."""

    name: str
    value: float | int | str | None
    threshold: str
    ok: bool


class GateResult(BaseModel):
    """What a gate found: the outcome, why, the figures and where the evidence is."""

    gate: str
    outcome: Outcome
    summary: str
    measurements: list[Measurement] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list, description="Paths of files written.")
    details: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS


def judge(gate: str, measurements: list[Measurement], *, enough_data: bool = True) -> Outcome:
    """``insufficient-data`` when there is too little to judge; else pass only if all hold."""
    if not enough_data:
        return Outcome.INSUFFICIENT_DATA
    return Outcome.PASS if all(m.ok for m in measurements) else Outcome.FAIL
