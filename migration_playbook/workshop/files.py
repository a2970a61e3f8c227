"""Where an exercise keeps what it hands the participant (tables to edit) and what its
grader must remember from ``start`` (a baseline), inside the kit's workdir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migration_playbook.context import KitContext


def folder(ctx: KitContext, number: int) -> Path:
    """``<workdir>/workshop/<N>``: the participant's files for exercise N."""
    path = (ctx.settings.workdir / "workshop" / str(number)).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_baseline(ctx: KitContext, number: int, values: dict[str, Any]) -> None:
    (folder(ctx, number) / ".baseline.json").write_text(json.dumps(values, indent=2))


def load_baseline(ctx: KitContext, number: int) -> dict[str, Any] | None:
    """What ``start`` recorded, or None when the exercise was never started here."""
    path = folder(ctx, number) / ".baseline.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data
