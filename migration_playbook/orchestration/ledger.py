"""The promotion ledger: one JSON line per transition of the migration, append-only.

``reports/ledger.jsonl`` records time, phase, step, route-table version and the gate
results of every step, rollback and verification, so the report (and a person) can
reconstruct exactly what happened and why. Each line is a ``LedgerEntry``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from migration_playbook.gates.result import GateResult, Outcome


class LedgerAction(StrEnum):
    """What kind of transition an entry records."""

    PRE_STEP = "pre-step"
    STEP = "step"
    ROLLBACK = "rollback"
    STOP = "stop"
    VERIFY = "verify"
    APPLY = "apply"


class LedgerEntry(BaseModel):
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    phase: int
    step: str
    action: LedgerAction
    outcome: Outcome
    table_version: int | None = None
    gates: list[GateResult] = Field(default_factory=list)
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="What the action adds: a pre-step's result, a step's traffic and reason, "
        "the table a rollback restored, the processes a phase stopped.",
    )


class Ledger:
    """The ledger file of one kit workdir's reports."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: LedgerEntry) -> LedgerEntry:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(entry.model_dump_json() + "\n")
        return entry

    def read(self) -> list[LedgerEntry]:
        """Every entry, oldest first (an absent ledger is empty). A line that is not an
        entry raises ``ValueError`` naming the line."""
        if not self.path.exists():
            return []
        entries = []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(LedgerEntry.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{self.path.name} line {number}: {exc}") from None
        return entries
