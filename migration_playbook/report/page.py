"""The HTML page: one self-contained document with inline CSS and inline SVG charts.

Nothing on the page is fetched (no script, stylesheet, font or image from anywhere), so it
can be mailed, attached to a ticket or opened offline, and it shows the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from typing import Any

from migration_playbook.gates.result import GateResult, Measurement
from migration_playbook.report import charts
from migration_playbook.report.data import PhaseView, ReportData
from migration_playbook.report.style import CSS


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _badge(outcome: str) -> str:
    return f'<span class="badge {_e(outcome)}">{_e(outcome.upper())}</span>'


def _time(at: datetime | str | None) -> str:
    if at is None:
        return "–"
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            return _e(at)
    return _e(at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure(svg_text: str | None, caption: str) -> str:
    if svg_text is None:
        return ""
    return f"<figure>{svg_text}<figcaption>{_e(caption)}</figcaption></figure>"


# -- header -------------------------------------------------------------------------------


def _overall(data: ReportData) -> tuple[str, str]:
    if not data.phases:
        return "insufficient-data", "No phase has been verified or applied yet."
    failed = [p for p in data.phases if p.report.outcome.value != "pass"]
    if not failed:
        return "pass", f"All {len(data.phases)} phases passed every gate."
    first = failed[0]
    text = f"Phase {first.report.phase} ({first.report.name}) stopped: {first.report.reason}"
    for step in first.rollbacks:
        text += (
            f". The kit rolled traffic back automatically to route table "
            f"v{step.report.rolled_back_to}."
        )
    return first.report.outcome.value, text


def _header(data: ReportData) -> str:
    outcome, text = _overall(data)
    chips = "".join(
        f'<a class="chip {_e(p.report.outcome.value)}" href="#phase-{p.report.phase}">'
        f"Phase {p.report.phase} · {_e(p.report.name)} · {_e(p.report.outcome.value.upper())}"
        + (" · ROLLED BACK" if p.rollbacks else "")
        + "</a>"
        for p in data.phases
    )
    return (
        f'<header class="overall {_e(outcome)}"><h1>Migration report</h1>'
        f'<p class="verdict">{_badge(outcome)} {_e(text)}</p>'
        f'<nav class="chips">{chips}</nav>'
        f'<p class="muted">Generated {_time(datetime.now(UTC))} from '
        f"{len(data.phases)} phase reports and {len(data.ledger)} ledger entries.</p></header>"
    )


# -- one phase ----------------------------------------------------------------------------


def _rollback_callouts(phase: PhaseView) -> str:
    out = []
    for step in phase.rollbacks:
        events = [
            f"<li>proxy guard on <b>{_e(r.name)}</b>: {_e(r.rollback.reason)}"
            + (
                f" (window: {r.rollback.window.requests} requests, "
                f"{r.rollback.window.errors} errors, p99 {_e(r.rollback.window.p99_ms)} ms)"
                if r.rollback.window
                else ""
            )
            + "</li>"
            for r in step.routes
            if r.rollback is not None and r.rollback.verdict == "rolled_back"
        ]
        out.append(
            '<div class="rollback" role="alert"><h3>⟲ Rollback at step '
            f"{_e(step.report.name)}</h3>"
            f"<p>Step table v{_e(step.report.table_version)} failed; the kit restored the "
            f"last good route table, now <b>v{_e(step.report.rolled_back_to)}</b>, at "
            f"{_time(step.report.finished_at)}.</p>"
            f'<p class="reason">{_e(step.report.reason)}</p>'
            + (f"<ul>{''.join(events)}</ul>" if events else "")
            + "</div>"
        )
    return "".join(out)


def _steps_table(phase: PhaseView) -> str:
    rows = []
    for step in phase.steps:
        t = step.report.traffic
        weights = ", ".join(f"{_e(r)} {w:g}%" for r, w in step.report.weights.items()) or "–"
        served = "; ".join(
            f"{_e(r.name)}: " + ", ".join(f"{_e(k)} {v}" for k, v in r.served.items())
            for r in step.routes
        )
        outcome = _badge(step.report.outcome.value) + (
            f' <span class="badge fail">ROLLED BACK → v{step.report.rolled_back_to}</span>'
            if step.rolled_back
            else ""
        )
        rows.append(
            [
                _e(step.report.name),
                outcome,
                f"v{_e(step.report.table_version)}",
                weights,
                f"{_e(t.get('sent', '–'))} / {_e(t.get('ok', '–'))} / {_e(t.get('failed', '–'))}",
                f"{_e(t.get('p50_ms', '–'))} / {_e(t.get('p99_ms', '–'))}",
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
    return "<h3>Steps</h3>" + _table(headers, rows)


def _measurement(m: Measurement) -> str:
    mark = "✓" if m.ok else "✗"
    return (
        f'<li class="{"ok" if m.ok else "bad"}">{mark} {_e(m.name)} = <b>{_e(m.value)}</b> '
        f'<span class="muted">({_e(m.threshold)})</span></li>'
    )


def _gates_table(gates: list[tuple[str, GateResult]]) -> str:
    if not gates:
        return ""
    rows = [
        [
            _e(where),
            f"<b>{_e(g.gate)}</b>",
            _badge(g.outcome.value),
            _e(g.summary),
            "<ul>" + "".join(_measurement(m) for m in g.measurements) + "</ul>",
            "<br>".join(f"<code>{_e(p)}</code>" for p in g.evidence) or "–",
        ]
        for where, g in gates
    ]
    headers = ["where", "gate", "outcome", "summary", "measurements", "evidence"]
    return "<h3>Gates</h3>" + _table(headers, rows, "gates")


def _models(phase: PhaseView) -> str:
    if phase.models is None:
        note = phase.snapshot_error or "no model snapshot in this phase report"
        return f'<h3>Models</h3><p class="muted">{_e(note)}</p>'
    rows = [
        [
            f"<b>v{_e(m.version)}</b>"
            + (' <span class="badge pass">SERVING</span>' if m.is_current else ""),
            f"{m.metrics.roc_auc:.3f}",
            f"{m.metrics.pr_auc:.3f}",
            f"{m.metrics.brier:.4f}",
            f"{m.metrics.train_rows} / {m.metrics.holdout_rows}",
            _e(m.feature_spec_version),
            _time(m.created_at),
            _time(m.promoted_at),
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
    return f"<h3>Models</h3><p>Serving <b>v{_e(phase.models.current_version)}</b>.</p>" + _table(
        headers, rows
    )


def _drift_note(phase: PhaseView) -> str:
    d = phase.drift
    if d is None:
        return ""
    drifted = ", ".join(d.drifted_features) or "none"
    return (
        f"<p>Drift status {_badge('pass' if d.status == 'ok' else 'fail')} "
        f"<b>{_e(d.status)}</b> for model v{_e(d.model_version)}: window of "
        f"{d.window.size} predictions against {d.reference_rows} reference rows; "
        f"drifted features: <b>{_e(drifted)}</b>.</p>"
    )


def _phase(phase: PhaseView) -> str:
    r = phase.report
    figures = [
        _figure(charts.traffic_split(phase), "Traffic split over time (candidate percent)"),
        _figure(charts.error_rates(phase), "Error rate: client vs candidate"),
        _figure(charts.latency(phase), "Latency p50/p99: client vs candidate"),
        _figure(charts.shadow(phase), "Shadow: response mismatch and decision agreement"),
        _figure(charts.drift(phase), "Drift per feature (PSI) with the threshold"),
    ]
    pre = "".join(
        f"<li><b>{_e(p.get('action'))}</b>: {_e(p.get('result'))}</li>" for p in r.pre_steps
    )
    return (
        f'<section class="phase {_e(r.outcome.value)}" id="phase-{r.phase}">'
        f"<h2>{_badge(r.outcome.value)} Phase {r.phase}: {_e(r.title)} "
        f'<span class="muted">({_e(r.name)}, kit phase {_e(r.command)})</span></h2>'
        f'<p class="muted">{_time(r.started_at)} → {_time(r.finished_at)}</p>'
        + (f'<p class="reason">{_e(r.reason)}</p>' if r.reason else "")
        + _rollback_callouts(phase)
        + (f"<h3>Pre-steps</h3><ul>{pre}</ul>" if pre else "")
        + f'<div class="grid">{"".join(figures)}</div>'
        + _steps_table(phase)
        + _gates_table(phase.all_gates())
        + _models(phase)
        + _drift_note(phase)
        + "</section>"
    )


# -- ledger -------------------------------------------------------------------------------


def _ledger_row(entry: dict[str, Any]) -> list[str]:
    details = entry.get("details") or {}
    notes = []
    traffic = details.get("traffic") or {}
    if traffic:
        notes.append(f"{traffic.get('sent')} sent, {traffic.get('failed')} failed")
    if details.get("reason"):
        notes.append(str(details["reason"]))
    if details.get("rolled_back_to") is not None:
        notes.append(f"rolled back to table v{details['rolled_back_to']}")
    if details.get("result"):
        notes.append(str(details["result"]))
    action = str(entry.get("action", ""))
    return [
        _time(entry.get("time")),
        _e(entry.get("phase")),
        _e(entry.get("step")),
        f'<span class="act-{_e(action)}">{_e(action)}</span>',
        _badge(str(entry.get("outcome", ""))),
        f"v{_e(entry.get('table_version'))}" if entry.get("table_version") else "–",
        ", ".join(_e(g.get("gate")) for g in entry.get("gates", [])) or "–",
        _e("; ".join(notes)) or "–",
    ]


def _ledger(data: ReportData) -> str:
    if not data.ledger:
        empty = '<p class="muted">The ledger is empty.</p>'
        return f'<section id="ledger"><h2>Ledger</h2>{empty}</section>'
    rows = []
    for entry in data.ledger:
        cls = "rollback-row" if entry.get("action") == "rollback" else ""
        cells = "".join(f"<td>{c}</td>" for c in _ledger_row(entry))
        rows.append(f'<tr class="{cls}">{cells}</tr>')
    headers = ["time", "phase", "step", "action", "outcome", "table", "gates", "details"]
    head = "".join(f"<th>{h}</th>" for h in headers)
    return (
        '<section id="ledger"><h2>Timeline (promotion ledger)</h2>'
        + _figure(charts.ledger_timeline(data.ledger), "Ledger entries over time, by phase")
        + f'<table class="ledger"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def render(data: ReportData) -> str:
    """The whole page as one string."""
    problems = "".join(f"<li>{_e(p)}</li>" for p in data.problems)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Migration report</title>"
        f"<style>{CSS}</style></head><body><main>"
        + _header(data)
        + (
            f'<div class="problems"><h2>Problems reading the reports</h2><ul>{problems}</ul></div>'
            if problems
            else ""
        )
        + _ledger(data)
        + "".join(_phase(p) for p in data.phases)
        + "</main></body></html>\n"
    )
