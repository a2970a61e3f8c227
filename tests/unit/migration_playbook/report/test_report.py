"""The HTML migration report built from fixture ``reports/`` (phases 0-2, one rollback)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.orchestration.reports import PhaseReport
from migration_playbook.report import build_report
from migration_playbook.report.svg import nice_ceiling
from tests.report_fixtures import phase_reports, write_reports

URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)
ALLOWED = ("http://www.w3.org/2000/svg", "http://127.0.0.1", "http://localhost")


def _build(tmp_path: Path, reports: list[PhaseReport] | None = None) -> str:
    folder = write_reports(tmp_path / "reports", reports)
    return build_report(folder).read_text(encoding="utf-8")


@pytest.fixture
def page(tmp_path: Path) -> str:
    return _build(tmp_path)


def test_writes_the_default_file(tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "reports")
    assert build_report(folder) == folder / "migration-report.html"
    assert (folder / "migration-report.html").stat().st_size > 10_000


def test_every_phase_has_a_section_and_a_header_chip(page: str) -> None:
    for n, name in [(0, "baseline"), (1, "shadow-ingestion"), (2, "canary-inference")]:
        assert f'id="phase-{n}"' in page
        assert f'href="#phase-{n}"' in page
        assert name in page


def test_header_says_the_migration_stopped_and_was_rolled_back(page: str) -> None:
    header = page.split("</header>")[0]
    assert 'class="overall fail"' in header
    assert "Phase 2 (canary-inference) stopped" in header
    assert "rolled traffic back automatically to route table v9" in header
    assert "ROLLED BACK" in header


def test_rollback_is_shown_in_red_with_reason_and_restored_version(page: str) -> None:
    phase2 = page.split('id="phase-2"')[1]
    box = phase2.split('<div class="rollback" role="alert">')[1].split("</div>")[0]
    assert "Rollback at step canary-50" in box
    assert "now <b>v9</b>" in box
    assert "max_p99_ms broken: measured 812 &gt; limit 250.0" in box
    assert "ROLLED BACK → v9" in phase2
    assert "rollback → table v9" in phase2  # the marker on the traffic-split chart
    assert 'class="rollback-row"' in page  # the ledger row
    assert ".rollback{background:#ffebe9;border:2px solid #cf222e" in page


def test_charts_are_inline_svg(page: str) -> None:
    kinds = re.findall(
        r'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="(\w+)"', page
    )
    assert kinds.count("timeline") == 1
    assert kinds.count("step") == 3  # a traffic split per phase
    assert kinds.count("hbars") == 1  # drift, only phase 2 has a drift snapshot
    # errors + latency per phase, shadow in phase 1
    assert kinds.count("bars") == 7
    assert page.count("<svg") == page.count("</svg>") == len(kinds)


def test_drift_bars_flag_the_drifted_feature_against_the_threshold(page: str) -> None:
    drift = page.split('data-chart="hbars"')[1].split("</svg>")[0]
    assert "PSI 0.2" in drift
    assert re.search(r'fill="#cf222e"/><text[^>]*>0\.310<', drift)  # amount, drifted
    assert "merchant_risk" in drift and "score (predicted)" in drift


def test_gates_show_measurements_and_evidence(page: str) -> None:
    assert "<code>reports/k6/phase-0-baseline.log</code>" in page
    assert "candidate_p99_ms = <b>812.0</b>" in page
    assert "shadow:transactions" in page


def test_models_and_shadow_figures(page: str) -> None:
    assert "SERVING" in page and "0.934" in page
    shadow = page.split("<title>Phase 1: shadow comparisons</title>")[1].split("</svg>")[0]
    assert "99.5%" in shadow and "1%" in shadow


def test_nothing_is_fetched_from_anywhere(page: str) -> None:
    urls = URL.findall(page)
    assert urls, "the SVG namespace at least should be found"
    assert [u for u in urls if not u.startswith(ALLOWED)] == []
    lowered = page.lower()
    for forbidden in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert forbidden not in lowered


def test_text_from_the_reports_is_escaped(tmp_path: Path) -> None:
    reports = phase_reports()
    reports[0] = reports[0].model_copy(update={"title": "<script>alert(1)</script>"})
    page = _build(tmp_path, reports)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_empty_reports_folder_still_renders(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    page = build_report(tmp_path / "reports").read_text()
    assert "No phase has been verified or applied yet." in page
    assert "The ledger is empty." in page


def test_an_unreadable_phase_file_is_reported_not_fatal(tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "reports")
    (folder / "phase-1.json").write_text("{not json")
    page = build_report(folder).read_text()
    assert "Problems reading the reports" in page and "phase-1.json could not be read" in page
    assert 'id="phase-0"' in page and 'id="phase-2"' in page and 'id="phase-1"' not in page


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0.0, 0.9, 1.3, 2.2, 4.0, 812 * 1.1)] == [
        1.0,
        1.0,
        2.0,
        2.5,
        5.0,
        1000.0,
    ]


def test_kit_report_command(tmp_path: Path) -> None:
    folder = write_reports(tmp_path / "reports")
    out = tmp_path / "out" / "page.html"
    result = CliRunner().invoke(app, ["report", "--reports", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "report written" in result.output
    assert 'id="phase-2"' in out.read_text()


def test_kit_report_without_reports_folder_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--reports", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "does not exist" in " ".join(result.output.split())
