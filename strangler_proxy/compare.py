"""Compare a shadow answer with the primary's: JSON-aware, numeric tolerance, ignored paths.

``ignore`` entries are either a bare key (``prediction_id``: ignored at any depth, so it
also covers every item of a batch) or a JSON path (``$.predictions[*].explanation``,
``meta.*.id``; ``[*]`` is any index, ``*`` any key). Numbers are equal when
``|a - b| <= abs_tol`` or ``|a - b| <= rel_tol * max(|a|, |b|)``; booleans are not numbers.
Prediction bodies (``decision`` at the top or ``predictions[*].decision``) also yield the
decisions agreed on, for the decision-agreement rate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from strangler_proxy.route_table.models import CompareSpec

_TOKEN = re.compile(r"\[(\*|\d+)\]|\.?([^.\[\]]+)")
_MAX_DIFFS = 20


@dataclass(frozen=True, slots=True)
class Difference:
    path: str
    primary: Any
    candidate: Any
    reason: str


@dataclass(slots=True)
class Comparison:
    """The outcome of one comparison."""

    differences: list[Difference] = field(default_factory=list)
    decisions_total: int = 0
    decisions_agreed: int = 0

    @property
    def matched(self) -> bool:
        return not self.differences


def _parse_path(path: str) -> tuple[str, ...]:
    text = path.removeprefix("$").removeprefix(".")
    tokens: list[str] = []
    for index, key in _TOKEN.findall(text):
        tokens.append(f"[{index}]" if index else key)
    return tuple(tokens)


class Comparator:
    """Compiled ``CompareSpec``; reused for every comparison of a route."""

    def __init__(self, spec: CompareSpec) -> None:
        self.spec = spec
        self._keys = frozenset(p for p in spec.ignore if not re.search(r"[.\[$]", p))
        self._paths = tuple(_parse_path(p) for p in spec.ignore if p not in self._keys)

    def _ignored(self, path: tuple[str, ...]) -> bool:
        if path and path[-1] in self._keys:
            return True
        for pattern in self._paths:
            if len(pattern) == len(path) and all(
                p == q or p == "*" or (p == "[*]" and q.startswith("["))
                for p, q in zip(pattern, path, strict=True)
            ):
                return True
        return False

    def _numbers_equal(self, a: float, b: float) -> bool:
        if a == b:
            return True
        delta = abs(a - b)
        return delta <= self.spec.abs_tol or delta <= self.spec.rel_tol * max(abs(a), abs(b))

    def _walk(self, a: Any, b: Any, path: tuple[str, ...], out: list[Difference]) -> None:
        if len(out) >= _MAX_DIFFS or self._ignored(path):
            return
        where = _render(path)
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(a.keys() | b.keys()):
                sub = (*path, key)
                if self._ignored(sub):
                    continue
                if key not in b:
                    out.append(Difference(_render(sub), a[key], None, "missing in candidate"))
                elif key not in a:
                    out.append(Difference(_render(sub), None, b[key], "extra in candidate"))
                else:
                    self._walk(a[key], b[key], sub, out)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(Difference(where, len(a), len(b), "array lengths differ"))
                return
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                self._walk(x, y, (*path, f"[{i}]"), out)
        elif _is_number(a) and _is_number(b):
            if not self._numbers_equal(float(a), float(b)):
                out.append(Difference(where, a, b, "numbers differ beyond tolerance"))
        elif a != b or type(a) is not type(b):
            out.append(Difference(where, a, b, "values differ"))

    def _decisions(self, body: Any) -> list[Any] | None:
        name = self.spec.decision_field
        if isinstance(body, dict):
            if name in body:
                return [body[name]]
            items = body.get("predictions")
            if isinstance(items, list):
                return [item.get(name) if isinstance(item, dict) else None for item in items]
        return None

    def compare(
        self,
        primary_status: int,
        primary_body: bytes,
        candidate_status: int,
        candidate_body: bytes,
    ) -> Comparison:
        """Compare two answers; non-JSON bodies are compared byte for byte."""
        result = Comparison()
        if self.spec.compare_status and primary_status != candidate_status:
            result.differences.append(
                Difference("status", primary_status, candidate_status, "status codes differ")
            )
        try:
            a = json.loads(primary_body) if primary_body else None
            b = json.loads(candidate_body) if candidate_body else None
        except ValueError:
            if primary_body != candidate_body:
                result.differences.append(
                    Difference(
                        "body",
                        _preview(primary_body),
                        _preview(candidate_body),
                        "non-JSON bodies differ",
                    )
                )
            return result
        self._walk(a, b, (), result.differences)
        da, db = self._decisions(a), self._decisions(b)
        if da is not None and db is not None and len(da) == len(db):
            result.decisions_total = len(da)
            result.decisions_agreed = sum(1 for x, y in zip(da, db, strict=True) if x == y)
        return result


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _render(path: tuple[str, ...]) -> str:
    out = "$"
    for part in path:
        out += part if part.startswith("[") else f".{part}"
    return out


def _preview(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", errors="replace")
    return text + ("..." if len(body) > limit else "")
