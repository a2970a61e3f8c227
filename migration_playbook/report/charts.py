"""Which charts the report draws, from the loaded phase and ledger data.

Each function turns one aspect of a phase (traffic split, latency, errors, shadow, drift)
or the ledger into an inline SVG, or ``None`` when the phase has nothing to show for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.proxy_admin.models import WindowOut
from migration_playbook.orchestration.ledger import LedgerEntry
from migration_playbook.report import svg
from migration_playbook.report.data import PhaseView, StepView

OUTCOME_COLOURS = {"pass": svg.PASS, "fail": svg.FAIL, "insufficient-data": svg.WARN}


def _seconds(at: datetime | None, start: datetime) -> float:
    return (at - start).total_seconds() if at is not None else 0.0


def _pct(value: float) -> str:
    return f"{value:.1f}%".replace(".0%", "%")


def traffic_split(phase: PhaseView) -> str:
    """Candidate percent per route over time, with each rollback as a red line."""
    start = phase.report.started_at
    routes = sorted({r for s in phase.steps for r in s.report.weights})
    current = dict.fromkeys(routes, 0.0)
    points: dict[str, list[tuple[float, float]]] = {r: [(0.0, 0.0)] for r in routes}
    markers = []
    end = phase.report.finished_at
    for step in phase.steps:
        last_good = dict(current)
        at = _seconds(step.started_at, start)
        for route, weight in step.report.weights.items():
            points[route].append((at, weight))
            current[route] = weight
        if step.rolled_back:
            back = _seconds(step.report.finished_at, start)
            for route in routes:
                points[route].append((back, last_good[route]))
            current = last_good
            markers.append(svg.Marker(back, f"rollback → table v{step.report.rolled_back_to}"))
        end = max(end or step.report.finished_at or start, step.report.finished_at or start)
    x_max = _seconds(end, start) or 1.0
    series = [
        svg.Series(f"{route} → candidate", svg.PALETTE[i % len(svg.PALETTE)], points[route])
        for i, route in enumerate(routes)
    ]
    if not series:
        series = [
            svg.Series("candidate share (none: all on the primary)", svg.PRIMARY, [(0.0, 0.0)])
        ]
    title = f"Phase {phase.report.phase}: share of traffic answered by the candidate"
    return svg.step_chart(series, x_max=x_max, title=title, markers=markers)


def _candidate_window(step: StepView) -> WindowOut | None:
    """The busiest candidate window among the step's routes (the proxy's rollback guard)."""
    windows = [r.rollback.window for r in step.routes if r.rollback and r.rollback.window]
    return max(windows, key=lambda w: w.requests) if windows else None


def _slo(phase: PhaseView, key: str) -> float | None:
    for step in phase.steps:
        for route in step.routes:
            if route.rollback and route.rollback.slo and key in route.rollback.slo:
                return float(route.rollback.slo[key])
    return None


def _num(traffic: dict[str, Any], key: str) -> float | None:
    value = traffic.get(key)
    return float(value) if isinstance(value, int | float) else None


def latency(phase: PhaseView) -> str | None:
    """p50/p99 per step: all traffic as the client saw it vs the candidate's own window."""
    if not phase.steps:
        return None
    names = [s.report.name for s in phase.steps]
    windows = [_candidate_window(s) for s in phase.steps]
    series = [
        svg.Bars("client p50", "#afb8c1", [_num(s.report.traffic, "p50_ms") for s in phase.steps]),
        svg.Bars(
            "client p99", svg.PRIMARY, [_num(s.report.traffic, "p99_ms") for s in phase.steps]
        ),
    ]
    if any(windows):
        series += [
            svg.Bars("candidate p50", "#80ccff", [w.p50_ms if w else None for w in windows]),
            svg.Bars("candidate p99", svg.CANDIDATE, [w.p99_ms if w else None for w in windows]),
        ]
    limit = _slo(phase, "max_p99_ms")
    return svg.bar_chart(
        names,
        series,
        title=f"Phase {phase.report.phase}: latency per step (ms)",
        fmt=lambda v: f"{v:.0f}",
        threshold=(limit, f"candidate p99 limit {limit:.0f} ms") if limit else None,
    )


def error_rates(phase: PhaseView) -> str | None:
    """Failed share per step for the client and for the candidate, against the SLO."""
    if not phase.steps:
        return None

    def client(step: StepView) -> float | None:
        sent = _num(step.report.traffic, "sent")
        failed = _num(step.report.traffic, "failed") or 0.0
        return 100.0 * failed / sent if sent else None

    windows = [_candidate_window(s) for s in phase.steps]
    series = [svg.Bars("client errors", svg.PRIMARY, [client(s) for s in phase.steps])]
    if any(windows):
        series.append(
            svg.Bars(
                "candidate errors",
                svg.CANDIDATE,
                [100.0 * w.error_rate if w else None for w in windows],
            )
        )
    limit = _slo(phase, "max_error_rate")
    return svg.bar_chart(
        [s.report.name for s in phase.steps],
        series,
        title=f"Phase {phase.report.phase}: error rate per step",
        fmt=_pct,
        y_max=svg.nice_ceiling(
            max([4.0, *(v * 1.1 for b in series for v in b.values if v is not None)])
        ),
        threshold=(100.0 * limit, f"candidate limit {_pct(100.0 * limit)}") if limit else None,
    )


def shadow(phase: PhaseView) -> str | None:
    """Mismatch rate and decision agreement of shadowed routes per step."""
    cats: list[str] = []
    mismatch: list[float | None] = []
    agreement: list[float | None] = []
    for step in phase.steps:
        for route in step.routes:
            if route.shadow is None:
                continue
            cats.append(
                f"{step.report.name}"
                if len(step.routes) == 1
                else f"{step.report.name}/{route.name}"
            )
            s = route.shadow
            mismatch.append(None if s.mismatch_rate is None else 100.0 * s.mismatch_rate)
            agreement.append(
                None if s.decision_agreement_rate is None else 100.0 * s.decision_agreement_rate
            )
    if not cats:
        return None
    return svg.bar_chart(
        cats,
        [
            svg.Bars("response mismatch", svg.FAIL, mismatch),
            svg.Bars("decision agreement", svg.PASS, agreement),
        ],
        title=f"Phase {phase.report.phase}: shadow comparisons",
        fmt=_pct,
        y_max=100.0,
    )


def drift(phase: PhaseView) -> str | None:
    """PSI per feature (and of the score) with the drift threshold."""
    report = phase.drift
    if report is None or not report.features:
        return None
    rows = [(f.feature, f.psi, f.drifted) for f in report.features]
    if report.score is not None:
        rows.append(("score (predicted)", report.score.psi, report.score.drifted))
    return svg.hbar_chart(
        rows,
        title=f"Phase {phase.report.phase}: drift per feature (PSI)",
        threshold=report.thresholds.psi,
        threshold_label=f"PSI {report.thresholds.psi:g}",
    )


def ledger_timeline(entries: list[LedgerEntry]) -> str | None:
    """Every ledger entry on one time axis, a lane per phase; rollbacks are big red dots."""
    if not entries:
        return None
    start = min(e.time for e in entries)
    phases = sorted({e.phase for e in entries})
    lane = {p: i for i, p in enumerate(phases)}
    dots = []
    for e in entries:
        action, outcome = e.action.value, e.outcome.value
        label = f"phase {e.phase} {action} {e.step}: {outcome}"
        big = action == "rollback"
        if big:
            label = f"rollback at {e.step} → table v{e.details.get('rolled_back_to')}"
        dots.append(
            svg.Dot(
                _seconds(e.time, start),
                lane[e.phase],
                OUTCOME_COLOURS.get(outcome, svg.MUTED),
                label,
                big,
            )
        )
    x_max = max(_seconds(e.time, start) for e in entries) or 1.0
    return svg.lanes_chart(
        dots,
        [f"phase {p}" for p in phases],
        x_max=x_max * 1.02,
        title="Ledger: every transition of the migration over time",
    )
