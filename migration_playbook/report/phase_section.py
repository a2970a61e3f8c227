"""One phase's section: rollback callouts, charts, steps, gates, models and drift."""

from __future__ import annotations

from migration_playbook.gates.result import GateResult, Measurement
from migration_playbook.report import charts
from migration_playbook.report.data import PhaseView
from migration_playbook.report.markup import badge, esc, figure, table, when


def _rollback_callouts(phase: PhaseView) -> str:
    out = []
    for step in phase.rollbacks:
        events = [
            f"<li>proxy guard on <b>{esc(r.name)}</b>: {esc(r.rollback.reason)}"
            + (
                f" (window: {r.rollback.window.requests} requests, "
                f"{r.rollback.window.errors} errors, p99 {esc(r.rollback.window.p99_ms)} ms)"
                if r.rollback.window
                else ""
            )
            + "</li>"
            for r in step.routes
            if r.rollback is not None and r.rollback.verdict == "rolled_back"
        ]
        out.append(
            '<div class="rollback" role="alert"><h3>⟲ Rollback at step '
            f"{esc(step.report.name)}</h3>"
            f"<p>Step table v{esc(step.report.table_version)} failed; the kit restored the "
            f"last good route table, now <b>v{esc(step.report.rolled_back_to)}</b>, at "
            f"{when(step.report.finished_at)}.</p>"
            f'<p class="reason">{esc(step.report.reason)}</p>'
            + (f"<ul>{''.join(events)}</ul>" if events else "")
            + "</div>"
        )
    return "".join(out)


def _steps_table(phase: PhaseView) -> str:
    rows = []
    for step in phase.steps:
        t = step.report.traffic
        weights = ", ".join(f"{esc(r)} {w:g}%" for r, w in step.report.weights.items()) or "–"
        served = "; ".join(
            f"{esc(r.name)}: " + ", ".join(f"{esc(k)} {v}" for k, v in r.served.items())
            for r in step.routes
        )
        outcome = badge(step.report.outcome.value) + (
            f' <span class="badge fail">ROLLED BACK → v{step.report.rolled_back_to}</span>'
            if step.rolled_back
            else ""
        )
        rows.append(
            [
                esc(step.report.name),
                outcome,
                f"v{esc(step.report.table_version)}",
                weights,
                " / ".join(esc(t.get(k, "–")) for k in ("sent", "ok", "failed")),
                f"{esc(t.get('p50_ms', '–'))} / {esc(t.get('p99_ms', '–'))}",
                served or "–",
            ]
        )
    if not rows:
        return ""
    headers = [
        "step",
        "outcome",
        "table",
        "candidate weight",
        "sent/ok/failed",
        "client p50/p99 ms",
        "served by",
    ]
    return "<h3>Steps</h3>" + table(headers, rows)


def _measurement(m: Measurement) -> str:
    mark = "✓" if m.ok else "✗"
    return (
        f'<li class="{"ok" if m.ok else "bad"}">{mark} {esc(m.name)} = <b>{esc(m.value)}</b> '
        f'<span class="muted">({esc(m.threshold)})</span></li>'
    )


def _gates_table(gates: list[tuple[str, GateResult]]) -> str:
    if not gates:
        return ""
    rows = [
        [
            esc(where),
            f"<b>{esc(g.gate)}</b>",
            badge(g.outcome.value),
            esc(g.summary),
            "<ul>" + "".join(_measurement(m) for m in g.measurements) + "</ul>",
            "<br>".join(f"<code>{esc(p)}</code>" for p in g.evidence) or "–",
        ]
        for where, g in gates
    ]
    headers = ["where", "gate", "outcome", "summary", "measurements", "evidence"]
    return "<h3>Gates</h3>" + table(headers, rows, "gates")


def _models(phase: PhaseView) -> str:
    if phase.models is None:
        note = phase.snapshot_error or "no model snapshot in this phase report"
        return f'<h3>Models</h3><p class="muted">{esc(note)}</p>'
    rows = [
        [
            f"<b>v{esc(m.version)}</b>"
            + (' <span class="badge pass">SERVING</span>' if m.is_current else ""),
            f"{m.metrics.roc_auc:.3f}",
            f"{m.metrics.pr_auc:.3f}",
            f"{m.metrics.brier:.4f}",
            f"{m.metrics.train_rows} / {m.metrics.holdout_rows}",
            esc(m.feature_spec_version),
            when(m.created_at),
            when(m.promoted_at),
        ]
        for m in phase.models.models
    ]
    headers = [
        "version",
        "ROC AUC",
        "PR AUC",
        "Brier",
        "train/holdout rows",
        "features",
        "created",
        "promoted",
    ]
    return f"<h3>Models</h3><p>Serving <b>v{esc(phase.models.current_version)}</b>.</p>" + table(
        headers, rows
    )


def _drift_note(phase: PhaseView) -> str:
    d = phase.drift
    if d is None:
        return ""
    drifted = ", ".join(d.drifted_features) or "none"
    return (
        f"<p>Drift status {badge('pass' if d.status == 'ok' else 'fail')} "
        f"<b>{esc(d.status)}</b> for model v{esc(d.model_version)}: window of "
        f"{d.window.size} predictions against {d.reference_rows} reference rows; "
        f"drifted features: <b>{esc(drifted)}</b>.</p>"
    )


def render_phase(phase: PhaseView) -> str:
    """The ``<section id="phase-N">`` of one phase."""
    r = phase.report
    figures = [
        figure(charts.traffic_split(phase), "Traffic split over time (candidate percent)"),
        figure(charts.error_rates(phase), "Error rate: client vs candidate"),
        figure(charts.latency(phase), "Latency p50/p99: client vs candidate"),
        figure(charts.shadow(phase), "Shadow: response mismatch and decision agreement"),
        figure(charts.drift(phase), "Drift per feature (PSI) with the threshold"),
    ]
    pre = "".join(f"<li><b>{esc(p.action)}</b>: {esc(p.result)}</li>" for p in r.pre_steps)
    return (
        f'<section class="phase {esc(r.outcome.value)}" id="phase-{r.phase}">'
        f"<h2>{badge(r.outcome.value)} Phase {r.phase}: {esc(r.title)} "
        f'<span class="muted">({esc(r.name)}, kit phase {esc(r.command)})</span></h2>'
        f'<p class="muted">{when(r.started_at)} → {when(r.finished_at)}</p>'
        + (f'<p class="reason">{esc(r.reason)}</p>' if r.reason else "")
        + _rollback_callouts(phase)
        + (f"<h3>Pre-steps</h3><ul>{pre}</ul>" if pre else "")
        + f'<div class="grid">{"".join(figures)}</div>'
        + _steps_table(phase)
        + _gates_table(phase.all_gates())
        + _models(phase)
        + _drift_note(phase)
        + "</section>"
    )
