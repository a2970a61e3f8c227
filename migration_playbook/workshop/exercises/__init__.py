"""The workshop's exercises, in the order a room does them; a new one is a module and a line."""

from __future__ import annotations

from migration_playbook.workshop.exercises import (
    canary_split,
    dead_letter,
    event_field,
    operator_revert,
    proxy_in_front,
    rollback_lab,
)
from migration_playbook.workshop.model import Exercise

EXERCISES: tuple[Exercise, ...] = (
    proxy_in_front.EXERCISE,
    canary_split.EXERCISE,
    operator_revert.EXERCISE,
    dead_letter.EXERCISE,
    rollback_lab.EXERCISE,
    event_field.EXERCISE,
)


class UnknownExercise(LookupError):
    """No exercise has this number."""


def find_exercise(number: int) -> Exercise:
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    known = ", ".join(str(e.number) for e in EXERCISES)
    raise UnknownExercise(f"no exercise {number} (there are: {known})")
