"""The route table: models, loader with precise errors, semantic lint and diff."""

from strangler_proxy.route_table.diff import diff_tables
from strangler_proxy.route_table.lint import lint_table
from strangler_proxy.route_table.loader import dump_table, load_table, parse_table
from strangler_proxy.route_table.models import (
    CanaryRoute,
    CompareSpec,
    Match,
    PassthroughRoute,
    RollbackSpec,
    Route,
    RouteTable,
    ShadowRoute,
    Upstream,
)

__all__ = [
    "CanaryRoute",
    "CompareSpec",
    "Match",
    "PassthroughRoute",
    "RollbackSpec",
    "Route",
    "RouteTable",
    "ShadowRoute",
    "Upstream",
    "diff_tables",
    "dump_table",
    "lint_table",
    "load_table",
    "parse_table",
]
