"""The promotion ledger: one JSON line per transition of the migration, append-only.

``reports/ledger.jsonl`` records time, phase, step, route-table version and the gate
results of every step, rollback and verification, so the report (and a person) can
reconstruct exactly what happened and why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migration_playbook.gates.result import GateResult


def append(
    path: Path,
    *,
    phase: int,
    step: str,
    action: str,
    outcome: str,
    table_version: int | None = None,
    gates: list[GateResult] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one entry and return it."""
    entry = {
        "time": datetime.now(UTC).isoformat(),
        "phase": phase,
        "step": step,
        "action": action,
        "outcome": outcome,
        "table_version": table_version,
        "gates": [g.model_dump(mode="json") for g in gates or []],
        "details": details or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")
    return entry


def read(path: Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (an absent ledger is empty)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
