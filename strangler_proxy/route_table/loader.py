"""Load a route table from YAML into validated models, with errors naming file, route, field.

``parse_table`` is the one way a table becomes live (file watcher, admin API, CLI): it
runs the pydantic validation and the semantic lint, and raises ``RouteTableError`` with
every error found, so an operator fixes them all in one go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from strangler_proxy.errors import RouteTableError, TableIssue
from strangler_proxy.route_table.lint import lint_table
from strangler_proxy.route_table.models import MODES, RouteTable

_FRIENDLY = {
    "union_tag_not_found": f"missing 'mode' (one of: {', '.join(MODES)})",
    "union_tag_invalid": f"unknown mode (one of: {', '.join(MODES)})",
    "extra_forbidden": "unknown field (check the spelling)",
    "missing": "required field is missing",
}


def _route_name(raw: Any, index: int) -> str:
    if isinstance(raw, dict):
        routes = raw.get("routes")
        if isinstance(routes, list) and index < len(routes) and isinstance(routes[index], dict):
            name = routes[index].get("name")
            if isinstance(name, str) and name:
                return name
    return f"#{index + 1}"


def _issues_from_validation(exc: ValidationError, raw: Any, source: str) -> list[TableIssue]:
    issues: list[TableIssue] = []
    for err in exc.errors():
        loc = list(err["loc"])
        route: str | None = None
        if len(loc) >= 2 and loc[0] == "routes" and isinstance(loc[1], int):
            route = _route_name(raw, loc[1])
            loc = loc[2:]
            if loc and loc[0] in MODES:  # the discriminator's tag, not a field
                loc = loc[1:]
        field = ".".join(str(part) for part in loc) or ("mode" if route else "table")
        reason = _FRIENDLY.get(err["type"], err["msg"])
        if err["type"] == "missing" and route and field == "candidate":
            reason = "this mode needs a 'candidate' upstream"
        if reason.startswith("Value error, "):
            reason = reason.removeprefix("Value error, ")
        issues.append(TableIssue(source, route, field, reason))
    return issues


def parse_table(text: str, source: str = "<table>") -> RouteTable:
    """Validate YAML (or JSON) text; raise ``RouteTableError`` listing every error."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RouteTableError(
            [TableIssue(source, None, "", f"invalid YAML{where}: {problem}")]
        ) from None
    if not isinstance(raw, dict):
        raise RouteTableError(
            [
                TableIssue(
                    source,
                    None,
                    "",
                    "the table must be a mapping with 'upstreams', 'routes' and 'default_upstream'",
                )
            ]
        )
    try:
        table = RouteTable.model_validate(raw)
    except ValidationError as exc:
        raise RouteTableError(_issues_from_validation(exc, raw, source)) from None
    errors = [i for i in lint_table(table, source) if i.severity == "error"]
    if errors:
        raise RouteTableError(errors)
    return table


def load_table(path: Path | str) -> RouteTable:
    """Read and validate a table file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteTableError(
            [TableIssue(str(path), None, "", f"cannot read: {exc.strerror or exc}")]
        ) from None
    return parse_table(text, str(path))


def dump_table(table: RouteTable) -> str:
    """The table as YAML, in the file's shape (defaults omitted)."""
    data = table.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("routes", [])
    for route, model in zip(data["routes"], table.routes, strict=True):
        route["mode"] = model.mode
        if hasattr(model, "weight"):
            route["weight"] = model.weight
    return yaml.safe_dump(data, sort_keys=False)
