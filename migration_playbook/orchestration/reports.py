"""What ``kit phase apply`` and ``verify`` report: per phase, per step, per gate.

Written as ``reports/phase-N.json``; the HTML report reads them back (it imports these
models, never the engine).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from contracts.proxy_admin.models import RouteStateOut
from migration_playbook.gates.result import GateResult, Outcome


class PreStepResult(BaseModel):
    action: str
    result: str


class StepReport(BaseModel):
    name: str
    outcome: Outcome
    table_version: int | None = None
    traffic: dict[str, Any] = Field(
        default_factory=dict,
        description="The kit's own traffic in the step (TrafficReport.summary).",
    )
    gates: list[GateResult] = Field(default_factory=list)
    rolled_back_to: int | None = None
    reason: str = ""
    weights: dict[str, float] = Field(
        default_factory=dict, description="Candidate weight per patched route (percent)."
    )
    proxy_routes: list[RouteStateOut] = Field(
        default_factory=list, description="The proxy's live state of the patched routes."
    )
    finished_at: datetime | None = None


class PhaseReport(BaseModel):
    phase: int
    name: str
    title: str
    command: str
    outcome: Outcome
    reason: str = ""
    started_at: datetime
    finished_at: datetime | None = None
    pre_steps: list[PreStepResult] = Field(default_factory=list)
    steps: list[StepReport] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    snapshot: dict[str, Any] = Field(
        default_factory=dict, description="Model versions and drift at the end, via the proxy."
    )
