"""The HTML page: one self-contained document with inline CSS and inline SVG charts.

Nothing on the page is fetched (no script, stylesheet, font or image from anywhere), so it
can be mailed, attached to a ticket or opened offline, and it shows the same thing everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

from migration_playbook.orchestration.ledger import LedgerEntry
from migration_playbook.report import charts
from migration_playbook.report.data import ReportData
from migration_playbook.report.markup import badge, esc, figure, when
from migration_playbook.report.phase_section import render_phase
from migration_playbook.report.style import CSS

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
        f'<a class="chip {esc(p.report.outcome.value)}" href="#phase-{p.report.phase}">'
        f"Phase {p.report.phase} · {esc(p.report.name)} · {esc(p.report.outcome.value.upper())}"
        + (" · ROLLED BACK" if p.rollbacks else "")
        + "</a>"
        for p in data.phases
    )
    return (
        f'<header class="overall {esc(outcome)}"><h1>Migration report</h1>'
        f'<p class="verdict">{badge(outcome)} {esc(text)}</p>'
        f'<nav class="chips">{chips}</nav>'
        f'<p class="muted">Generated {when(datetime.now(UTC))} from '
        f"{len(data.phases)} phase reports and {len(data.ledger)} ledger entries.</p></header>"
    )


# -- ledger -------------------------------------------------------------------------------


def _ledger_row(entry: LedgerEntry) -> list[str]:
    details = entry.details
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
    action = entry.action.value
    return [
        when(entry.time.isoformat()),
        esc(entry.phase),
        esc(entry.step),
        f'<span class="act-{esc(action)}">{esc(action)}</span>',
        badge(entry.outcome.value),
        f"v{esc(entry.table_version)}" if entry.table_version else "–",
        ", ".join(esc(g.gate) for g in entry.gates) or "–",
        esc("; ".join(notes)) or "–",
    ]


def _ledger(data: ReportData) -> str:
    if not data.ledger:
        empty = '<p class="muted">The ledger is empty.</p>'
        return f'<section id="ledger"><h2>Ledger</h2>{empty}</section>'
    rows = []
    for entry in data.ledger:
        cls = "rollback-row" if entry.action == "rollback" else ""
        cells = "".join(f"<td>{c}</td>" for c in _ledger_row(entry))
        rows.append(f'<tr class="{cls}">{cells}</tr>')
    headers = ["time", "phase", "step", "action", "outcome", "table", "gates", "details"]
    head = "".join(f"<th>{h}</th>" for h in headers)
    return (
        '<section id="ledger"><h2>Timeline (promotion ledger)</h2>'
        + figure(charts.ledger_timeline(data.ledger), "Ledger entries over time, by phase")
        + f'<table class="ledger"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def render(data: ReportData) -> str:
    """The whole page as one string."""
    problems = "".join(f"<li>{esc(p)}</li>" for p in data.problems)
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
        + "".join(render_phase(p) for p in data.phases)
        + "</main></body></html>\n"
    )
