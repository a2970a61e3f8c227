"""What an exercise is: who it is for, its goal and hints, and four actions on a live kit.

``start`` puts the participant's machine in the exercise's starting state (processes up, a
planted fault, a route table to edit) and says what it did; ``check`` grades the running
system and returns a ``Verdict``, one plain-words line per thing it looked at; ``solve``
applies the reference solution; ``reset`` puts the starting state back. Every action takes
the ``KitContext`` of the participant's kit, so the same exercise runs on a laptop and in
the tests' stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from migration_playbook.context import KitContext


class Audience(StrEnum):
    """The kit's three kinds of users."""

    TEAM = "team"
    WORKSHOP = "workshop"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Item:
    """One thing a grader looked at: passed or not, in plain words."""

    passed: bool
    text: str


@dataclass
class Verdict:
    """A grader's answer; it passes only when every item does (and there is at least one)."""

    items: list[Item] = field(default_factory=list)

    def ok(self, text: str) -> None:
        self.items.append(Item(True, text))

    def missing(self, text: str) -> None:
        self.items.append(Item(False, text))

    def expect(self, condition: bool, passed: str, missing: str) -> bool:
        self.items.append(Item(condition, passed if condition else missing))
        return condition

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(item.passed for item in self.items)


Action = Callable[[KitContext], str]
Grader = Callable[[KitContext], Verdict]


@dataclass(frozen=True)
class Exercise:
    """One graded exercise (see the module docstring)."""

    number: int
    slug: str
    title: str
    audience: Audience
    minutes: int
    goal: str
    hints: tuple[str, ...]
    start: Action
    check: Grader
    solve: Action
    reset: Action
