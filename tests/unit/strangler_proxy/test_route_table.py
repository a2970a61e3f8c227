"""The route table loader's precise errors, the semantic lint, and the diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler_proxy.errors import RouteTableError
from strangler_proxy.route_table import diff_tables, lint_table, load_table, parse_table

EXAMPLE = Path(__file__).parents[3] / "strangler_proxy" / "examples" / "routes.yaml"
HEAD = """
upstreams:
  monolith: {url: "http://127.0.0.1:5000"}
  inference: {url: "http://127.0.0.1:8102", timeout_s: 2.0}
default_upstream: monolith
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(RouteTableError) as info:
        parse_table(text, "t.yaml")
    return [str(issue) for issue in info.value.issues]


def test_the_example_table_is_valid_and_lint_clean() -> None:
    table = load_table(EXAMPLE)
    assert {r.mode for r in table.routes} == {"passthrough", "shadow", "canary"}
    assert [i for i in lint_table(table) if i.severity == "error"] == []


def test_field_errors_name_file_route_and_field() -> None:
    errors = _errors(
        HEAD
        + """
routes:
  - name: predictions
    match: {path_prefix: /api/v1/predictions}
    mode: canary
    primary: monolith
    weight: 140
    sticky_key: body:account
  - name: bad-mode
    match: {path_prefix: /x}
    mode: mirror
    primary: monolith
  - match: {path: "api/{id}"}
    mode: passthrough
    primary: monolith
"""
    )
    assert (
        "t.yaml: route 'predictions': candidate: this mode needs a 'candidate' upstream" in errors
    )
    assert any(e.startswith("t.yaml: route 'predictions': weight: ") and "100" in e for e in errors)
    assert any("route 'predictions': sticky_key: must be 'header:NAME'" in e for e in errors)
    assert any("route 'bad-mode': mode: unknown mode" in e for e in errors)
    assert any("route '#3': name: required field is missing" in e for e in errors)
    assert any("route '#3': match.path: must start with '/'" in e for e in errors)


def test_yaml_syntax_error_has_a_position() -> None:
    (error,) = _errors("upstreams: {a: [\n")
    assert error.startswith("t.yaml: invalid YAML at line")


def test_unknown_upstreams_and_duplicates() -> None:
    errors = _errors(
        HEAD.replace("default_upstream: monolith", "default_upstream: legacy")
        + """
routes:
  - {name: a, mode: passthrough, primary: inferense, match: {path_prefix: /a}}
  - {name: a, mode: passthrough, primary: monolith, match: {path_prefix: /b}}
"""
    )
    assert any("default_upstream: unknown upstream 'legacy'" in e for e in errors)
    assert any("route 'a': primary: unknown upstream 'inferense'" in e for e in errors)
    assert any("route 'a': name: duplicate route name (also route #1)" in e for e in errors)


def test_unreachable_and_overlapping_routes() -> None:
    text = (
        HEAD
        + """
routes:
  - {name: all-api, mode: passthrough, primary: monolith, match: {path_prefix: /api}}
  - {name: shadowed, mode: passthrough, primary: inference,
     match: {path: "/api/v1/predictions/{id}", methods: [GET]}}
"""
    )
    assert any("route 'shadowed': match: unreachable: route 'all-api'" in e for e in _errors(text))
    ok = parse_table(
        HEAD
        + """
routes:
  - {name: get-one, mode: passthrough, primary: inference,
     match: {path: "/api/v1/predictions/{id}", methods: [GET]}}
  - {name: all-api, mode: passthrough, primary: monolith, match: {path_prefix: /api}}
"""
    )
    issues = lint_table(ok)
    assert [i.severity for i in issues] == ["warning"]
    assert "overlaps route 'get-one'" in issues[0].reason
    # a header-constrained route after a broader one without it is unreachable
    assert any(
        "route 'beta'" in e and "unreachable" in e
        for e in _errors(
            HEAD
            + """
routes:
  - {name: all-api, mode: passthrough, primary: monolith, match: {path_prefix: /api}}
  - {name: beta, mode: passthrough, primary: inference,
     match: {path_prefix: /api/v1, headers: {X-Beta: "1"}}}
"""
        )
    )


def test_shadowing_non_idempotent_needs_a_dry_run_candidate() -> None:
    route = """
routes:
  - {name: p, mode: shadow, primary: monolith, candidate: inference,
     match: {path_prefix: /api/v1/predictions, methods: [POST]}}
"""
    (error,) = _errors(HEAD + route)
    assert "shadows non-idempotent POST requests to 'inference'" in error
    parse_table(HEAD.replace("timeout_s: 2.0", "timeout_s: 2.0, dry_run: true") + route)
    parse_table(HEAD + route.replace("[POST]", "[GET]"))


def test_a_read_fallback_names_a_known_upstream_and_a_route_that_reads() -> None:
    route = """
routes:
  - {name: r, mode: passthrough, primary: monolith, read_fallback: %s,
     match: {path: "/api/v1/predictions/{id}", methods: [%s]}}
"""
    table = parse_table(HEAD + route % ("inference", "GET"))
    assert table.routes[0].read_fallback == "inference"
    assert lint_table(table) == []
    assert any(
        "route 'r': read_fallback: unknown upstream 'inferense'" in e
        for e in _errors(HEAD + route % ("inferense", "GET"))
    )
    (error,) = _errors(HEAD + route % ("inference", "POST"))
    assert "read_fallback applies to GET and HEAD only" in error
    same = lint_table(parse_table(HEAD + route % ("monolith", "GET")))
    assert [(i.severity, i.field) for i in same] == [("warning", "read_fallback")]


def test_diff_names_each_change() -> None:
    a = parse_table(
        HEAD
        + """
routes:
  - {name: p, mode: canary, primary: monolith, candidate: inference, weight: 10,
     match: {path_prefix: /p}}
"""
    )
    b = parse_table(
        HEAD.replace("2.0", "3.0")
        + """
routes:
  - {name: p, mode: canary, primary: monolith, candidate: inference, weight: 50,
     match: {path_prefix: /p}}
  - {name: q, mode: passthrough, primary: inference, match: {path_prefix: /q}}
"""
    )
    assert diff_tables(a, b) == [
        "~ upstream 'inference': timeout_s: 2.0 -> 3.0",
        "~ route 'p': weight: 10.0 -> 50.0",
        "+ route 'q' (passthrough -> inference)",
    ]
    assert diff_tables(a, a) == []
