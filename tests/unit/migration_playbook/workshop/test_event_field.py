"""Exercise 6 with the ``kit workshop`` commands, on files only (nothing has to run): the
grader fails on the colleague's proposal, naming each breaking change, passes on the
reference solution, and fails again on the mistakes a participant is likely to make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.context import KitContext
from migration_playbook.settings import KitSettings
from migration_playbook.workshop.exercises import event_field, find_exercise

EXERCISE = find_exercise(6)


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIT_WORKDIR", str(tmp_path / "var"))
    return tmp_path / "var"


def _proposal(workdir: Path) -> Path:
    return workdir / "workshop/6/proposed/prediction_logged.schema.json"


def _missing(ctx: KitContext) -> list[str]:
    return [item.text for item in EXERCISE.check(ctx).items if not item.passed]


def _edit(workdir: Path, change: Any) -> None:
    path = _proposal(workdir)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_start_check_solve_check_through_the_cli(workdir: Path) -> None:
    runner = CliRunner()
    started = runner.invoke(app, ["workshop", "start", "6"])
    assert started.exit_code == 0, started.output
    assert _proposal(workdir).is_file()

    before = runner.invoke(app, ["workshop", "check", "6"])
    assert before.exit_code == 1, before.output
    text = " ".join(before.output.split())
    assert "score" in text and "hold" in text  # each planted change is named
    assert "risk_score" in text  # and the pact example that no longer fits

    solved = runner.invoke(app, ["workshop", "solve", "6"])
    assert solved.exit_code == 0, solved.output
    after = runner.invoke(app, ["workshop", "check", "6"])
    assert after.exit_code == 0, after.output


@pytest.mark.parametrize(
    ("mistake", "expected"),
    [
        (lambda d: d["properties"].pop("latency_ms"), "no longer adds latency_ms"),
        (
            lambda d: d["$defs"]["PredictionRecord"]["required"].remove("model_version"),
            "model_version",
        ),
        (lambda d: d["properties"]["latency_ms"].update(type="string"), "latency_ms"),
        (lambda d: d["$defs"]["Decision"]["enum"].remove("review"), "review"),
    ],
    ids=["field dropped", "field made optional", "field a string", "enum value removed"],
)
def test_a_likely_mistake_is_caught(workdir: Path, mistake: Any, expected: str) -> None:
    ctx = KitContext.create(KitSettings())
    event_field.start(ctx)
    event_field.solve(ctx)
    assert _missing(ctx) == []
    _edit(workdir, mistake)
    missing = _missing(ctx)
    assert missing and any(expected in text for text in missing), missing


def test_a_proposal_that_is_not_json_or_not_started_says_so(workdir: Path) -> None:
    ctx = KitContext.create(KitSettings())
    assert any("kit workshop start 6" in text for text in _missing(ctx))
    event_field.start(ctx)
    _proposal(workdir).write_text("{nope")
    assert any("not JSON" in text for text in _missing(ctx))
