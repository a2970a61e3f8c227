"""Load what the engine wrote (``phase-N.json`` and the ledger) into typed views for the page.

The loaders never raise on a half-written reports directory: an unreadable phase file is
reported as a problem on the page instead, because the report is what a person reads after
something went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from contracts.monitoring import DriftReport
from contracts.proxy_admin.models import RouteStateOut
from contracts.registry import ModelList
from migration_playbook.gates.result import GateResult
from migration_playbook.orchestration.ledger import Ledger, LedgerEntry
from migration_playbook.orchestration.reports import PhaseReport, StepReport

_M = TypeVar("_M", ModelList, DriftReport)


@dataclass(frozen=True)
class StepView:
    """One step with its proxy route states parsed and its time span."""

    report: StepReport
    started_at: datetime
    routes: list[RouteStateOut]

    @property
    def rolled_back(self) -> bool:
        return self.report.rolled_back_to is not None


@dataclass(frozen=True)
class PhaseView:
    report: PhaseReport
    steps: list[StepView]
    models: ModelList | None
    drift: DriftReport | None
    snapshot_error: str | None

    @property
    def rollbacks(self) -> list[StepView]:
        return [s for s in self.steps if s.rolled_back]

    def all_gates(self) -> list[tuple[str, GateResult]]:
        """Every gate result with where it ran (a step's name or ``phase``)."""
        out = [(f"step {s.report.name}", g) for s in self.steps for g in s.report.gates]
        return out + [("phase", g) for g in self.report.gates]


@dataclass
class ReportData:
    phases: list[PhaseView] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load(reports_dir: Path) -> ReportData:
    """Every ``phase-N.json`` (ordered by N) and every ledger line in ``reports_dir``."""
    data = ReportData()
    try:
        data.ledger = Ledger(reports_dir / "ledger.jsonl").read()
    except ValueError as exc:
        data.problems.append(f"the ledger could not be read: {exc}")
    for path in sorted(reports_dir.glob("phase-*.json"), key=_phase_number):
        try:
            report = PhaseReport.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            data.problems.append(f"{path.name} could not be read: {exc}")
            continue
        data.phases.append(_view(report, data.problems))
    return data


def _phase_number(path: Path) -> int:
    suffix = path.stem.removeprefix("phase-")
    return int(suffix) if suffix.isdigit() else 10**6


def _view(report: PhaseReport, problems: list[str]) -> PhaseView:
    steps = []
    started = report.started_at
    for step in report.steps:
        steps.append(StepView(report=step, started_at=started, routes=list(step.proxy_routes)))
        started = step.finished_at or started
    snapshot = report.snapshot
    models = _parse(ModelList, snapshot.get("models"), report.phase, "models", problems)
    drift = _parse(DriftReport, snapshot.get("drift"), report.phase, "drift", problems)
    error = snapshot.get("error")
    return PhaseView(
        report=report,
        steps=steps,
        models=models,
        drift=drift,
        snapshot_error=str(error) if error else None,
    )


def _parse(model: type[_M], raw: Any, phase: int, what: str, problems: list[str]) -> _M | None:
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.append(f"phase {phase} snapshot {what}: {exc}")
        return None
