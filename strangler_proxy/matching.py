"""Request matching: compile a table's routes once, then pick a route per request cheaply.

Routes are tried in table order; the first whose path, method, headers and query all
match wins, else the default upstream serves. Compiled matchers work on the raw ASGI
values (``str`` path, ``bytes`` header pairs) so that nothing is parsed unless a route
asks for it (query strings are parsed only for routes with a query constraint).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from strangler_proxy.route_table.models import Match, Route, RouteTable

Headers = Sequence[tuple[bytes, bytes]]


def _template_regex(template: str) -> re.Pattern[str]:
    parts = []
    for segment in template.split("/"):
        if segment.startswith("{"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("/".join(parts) + "/?")


class CompiledMatch:
    """One route's match, precompiled; ``why_not`` explains a miss in words."""

    __slots__ = ("_prefix", "_prefix_slash", "_regex", "_methods", "_headers", "_query", "spec")

    def __init__(self, spec: Match) -> None:
        self.spec = spec
        prefix = spec.path_prefix.rstrip("/") if spec.path_prefix is not None else None
        self._prefix = prefix
        self._prefix_slash = (prefix + "/") if prefix is not None else None
        self._regex = _template_regex(spec.path) if spec.path is not None else None
        self._methods = frozenset(spec.methods) if spec.methods is not None else None
        self._headers = tuple(
            (k.encode("latin-1"), None if v == "*" else v.encode("latin-1"))
            for k, v in spec.headers.items()
        )
        self._query = tuple(spec.query.items())

    def _path_ok(self, path: str) -> bool:
        if self._prefix is not None:
            assert self._prefix_slash is not None
            return self._prefix == "" or path == self._prefix or path.startswith(self._prefix_slash)
        assert self._regex is not None
        return self._regex.fullmatch(path) is not None

    def _headers_ok(self, headers: Headers) -> bool:
        for name, wanted in self._headers:
            for key, value in headers:
                if key.lower() == name and (wanted is None or value == wanted):
                    break
            else:
                return False
        return True

    def _query_ok(self, query_string: bytes) -> bool:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        for name, wanted in self._query:
            if not any(k == name and (wanted == "*" or v == wanted) for k, v in pairs):
                return False
        return True

    def matches(self, method: str, path: str, headers: Headers, query_string: bytes) -> bool:
        if self._methods is not None and method not in self._methods:
            return False
        if not self._path_ok(path):
            return False
        if self._headers and not self._headers_ok(headers):
            return False
        return not (self._query and not self._query_ok(query_string))

    def why_not(self, method: str, path: str, headers: Headers, query_string: bytes) -> str:
        if self._methods is not None and method not in self._methods:
            return f"method {method} not in {sorted(self._methods)}"
        if not self._path_ok(path):
            what = (
                f"prefix {self.spec.path_prefix}"
                if self._prefix is not None
                else (f"template {self.spec.path}")
            )
            return f"path {path} does not match {what}"
        if self._headers and not self._headers_ok(headers):
            return f"headers do not satisfy {self.spec.headers}"
        if self._query and not self._query_ok(query_string):
            return f"query does not satisfy {self.spec.query}"
        return "matches"


@dataclass(frozen=True, slots=True)
class ExplainStep:
    route: str
    matched: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Explanation:
    route: str | None
    mode: str
    upstreams: dict[str, str]
    steps: tuple[ExplainStep, ...]


class Router:
    """The compiled form of one table; immutable, so a swap is one reference assignment."""

    __slots__ = ("table", "_compiled")

    def __init__(self, table: RouteTable) -> None:
        self.table = table
        self._compiled: tuple[tuple[CompiledMatch, Route], ...] = tuple(
            (CompiledMatch(route.match), route) for route in table.routes
        )

    def match(self, method: str, path: str, headers: Headers, query_string: bytes) -> Route | None:
        """The first matching route, or ``None`` for the default upstream."""
        for matcher, route in self._compiled:
            if matcher.matches(method, path, headers, query_string):
                return route
        return None

    def explain(
        self, method: str, path: str, headers: Headers, query_string: bytes = b""
    ) -> Explanation:
        """Which route would serve this request and why the earlier ones did not."""
        method = method.upper()
        steps = []
        for matcher, route in self._compiled:
            if matcher.matches(method, path, headers, query_string):
                steps.append(ExplainStep(route.name, True, "first match in table order"))
                return Explanation(route.name, route.mode, route.upstream_refs, tuple(steps))
            steps.append(
                ExplainStep(route.name, False, matcher.why_not(method, path, headers, query_string))
            )
        return Explanation(
            None, "passthrough", {"primary": self.table.default_upstream}, tuple(steps)
        )
