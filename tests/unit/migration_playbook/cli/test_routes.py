"""``kit routes`` offline commands (lint, explain --table, diff) with typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from migration_playbook.cli.app import app

EXAMPLE = Path(__file__).parents[4] / "strangler_proxy" / "examples" / "routes.yaml"
runner = CliRunner()


def test_lint_ok_and_exit_zero() -> None:
    result = runner.invoke(app, ["routes", "lint", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "2 upstreams, 3 routes, 0 warnings" in result.output


def test_lint_errors_exit_one_with_precise_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        EXAMPLE.read_text()
        .replace("weight: 10", "weight: 101")
        .replace(
            "primary: monolith\n    candidate: inference\n    compare",
            "primary: monolyth\n    candidate: inference\n    compare",
        )
    )
    result = runner.invoke(app, ["routes", "lint", str(bad)])
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert f"{bad}: route 'predictions': weight:" in out
    assert "101" not in out or "less than or equal to 100" in out


def test_lint_semantic_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        EXAMPLE.read_text().replace(
            "primary: monolith\n    candidate: inference\n    compare",
            "primary: monolyth\n    candidate: inference\n    compare",
        )
    )
    result = runner.invoke(app, ["routes", "lint", str(bad)])
    assert result.exit_code == 1
    assert "route 'models': primary: unknown upstream 'monolyth'" in " ".join(result.output.split())


def test_explain_from_a_file() -> None:
    result = runner.invoke(
        app, ["routes", "explain", "GET", "/api/v1/predictions/42", "--table", str(EXAMPLE)]
    )
    assert result.exit_code == 0, result.output
    assert "skip predictions: method GET not in ['POST']" in " ".join(result.output.split())
    assert "-> audit (passthrough) primary=monolith" in result.output
    unmatched = runner.invoke(
        app, ["routes", "explain", "GET", "/healthz", "--table", str(EXAMPLE)]
    )
    assert "(no route: default_upstream)" in unmatched.output
    both = runner.invoke(
        app,
        ["routes", "explain", "GET", "/", "--table", str(EXAMPLE), "--proxy", "http://127.0.0.1:1"],
    )
    assert both.exit_code == 2


def test_diff(tmp_path: Path) -> None:
    after = tmp_path / "b.yaml"
    after.write_text(EXAMPLE.read_text().replace("weight: 10", "weight: 50"))
    result = runner.invoke(app, ["routes", "diff", str(EXAMPLE), str(after)])
    assert result.exit_code == 0
    assert "~ route 'predictions': weight: 10.0 -> 50.0" in result.output
