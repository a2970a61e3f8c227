"""``kit workshop`` without a running kit: the list, the hints, and graders that say what is
missing when nothing runs (a topology on free ports, a fresh workdir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.topology.edit import dump_topology
from migration_playbook.workshop.exercises import EXERCISES, UnknownExercise, find_exercise
from migration_playbook.workshop.model import Audience, Verdict
from tests.kit_stack import relocated


@pytest.fixture()
def nothing_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIT_TOPOLOGY", str(dump_topology(relocated(), tmp_path / "t.yaml")))
    monkeypatch.setenv("KIT_WORKDIR", str(tmp_path / "var"))
    return tmp_path


def test_every_exercise_is_complete_and_numbered_in_order() -> None:
    assert [e.number for e in EXERCISES] == list(range(1, len(EXERCISES) + 1))
    assert len({e.slug for e in EXERCISES}) == len(EXERCISES)
    assert {e.audience for e in EXERCISES} == set(Audience)
    for exercise in EXERCISES:
        assert exercise.title and exercise.goal and len(exercise.hints) >= 2
        assert exercise.minutes > 0
    with pytest.raises(UnknownExercise, match="there are: 1, 2, 3, 4, 5, 6"):
        find_exercise(99)


def test_a_verdict_passes_only_when_every_item_does() -> None:
    verdict = Verdict()
    assert not verdict.passed  # nothing looked at is not a pass
    verdict.ok("one thing")
    assert verdict.passed
    assert not verdict.expect(False, "fine", "still missing")
    assert not verdict.passed
    assert verdict.items[-1].text == "still missing"


def test_list_shows_every_exercise() -> None:
    result = CliRunner().invoke(app, ["workshop", "list"])
    assert result.exit_code == 0, result.output
    for exercise in EXERCISES:
        assert exercise.audience.value in result.output
        assert exercise.title.split()[0] in result.output


def test_hint_gives_one_hint_then_all_of_them() -> None:
    exercise = find_exercise(2)
    one = CliRunner().invoke(app, ["workshop", "hint", "2"])
    assert one.exit_code == 0
    assert "hint 1:" in one.output and "hint 2:" not in one.output and "--all" in one.output
    every = CliRunner().invoke(app, ["workshop", "hint", "2", "--all"])
    assert f"hint {len(exercise.hints)}:" in every.output
    assert "sticky_key" in every.output


def test_an_unknown_exercise_exits_2() -> None:
    result = CliRunner().invoke(app, ["workshop", "check", "42"])
    assert result.exit_code == 2
    assert "no exercise 42" in result.output


def test_check_without_a_proxy_says_what_to_start(nothing_running: Path) -> None:
    result = CliRunner().invoke(app, ["workshop", "check", "1"])
    assert result.exit_code == 1, result.output
    assert "todo" in result.output and "kit up --phase 0" in result.output


def test_the_operator_lab_is_graded_only_once_started(nothing_running: Path) -> None:
    result = CliRunner().invoke(app, ["workshop", "check", "3"])
    assert result.exit_code == 1
    assert "kit workshop start 3" in result.output


def test_env_prints_the_proxy_and_a_token(nothing_running: Path) -> None:
    result = CliRunner().invoke(app, ["workshop", "env"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("export PROXY=http://127.0.0.1:")
    assert lines[1].startswith("export KIT_ADMIN_TOKEN=") and len(lines[1]) > 60
