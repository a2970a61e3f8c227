"""The migration report: one self-contained HTML page built from ``reports/``.

``build_report`` reads the phase reports and the promotion ledger the engine wrote and
renders what happened (traffic split, errors and latency, shadow, gates, rollbacks,
models, drift) into a page that needs no network to open.
"""

from __future__ import annotations

from pathlib import Path

from migration_playbook.report.data import load
from migration_playbook.report.page import render

__all__ = ["build_report"]


def build_report(reports_dir: Path, out: Path | None = None) -> Path:
    """Write the page (by default ``reports_dir/migration-report.html``) and return its path."""
    target = out if out is not None else reports_dir / "migration-report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(load(reports_dir)), encoding="utf-8")
    return target
