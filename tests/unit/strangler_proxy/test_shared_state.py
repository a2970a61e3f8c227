"""Two table stores on one shared state file: versions agree, rollbacks travel, and a
rollback of a route that changed since is not taken."""

from __future__ import annotations

from pathlib import Path

import yaml

from strangler_proxy.forwarding import UpstreamPool
from strangler_proxy.metrics import ProxyMetrics
from strangler_proxy.route_table.loader import parse_table
from strangler_proxy.shared_state import SharedState
from strangler_proxy.table_store import TableStore


def _table(weight: float) -> str:
    return yaml.safe_dump(
        {
            "upstreams": {"old": {"url": "http://old:1"}, "new": {"url": "http://new:1"}},
            "routes": [
                {
                    "name": "r",
                    "match": {"path_prefix": "/"},
                    "mode": "canary",
                    "primary": "old",
                    "candidate": "new",
                    "weight": weight,
                    "rollback": {"max_error_rate": 0.1, "min_requests": 3, "window_s": 60},
                }
            ],
            "default_upstream": "old",
        }
    )


def _store(path: Path, replica: str) -> TableStore:
    shared = SharedState(f"sqlite:///{path}", replica)
    return TableStore(UpstreamPool(4.0), ProxyMetrics(), 10, 5, shared)


def _fail_candidate(store: TableStore) -> None:
    assert store.live is not None
    guard = store.live.states["r"].guard
    assert guard is not None
    for _ in range(5):
        guard.record(False, 1.0)
    assert guard.rolled_back


def test_versions_agree_and_a_rollback_reaches_the_other_store(tmp_path: Path) -> None:
    a, b = _store(tmp_path / "s.db", "a"), _store(tmp_path / "s.db", "b")
    first = a.apply_text(_table(20), "op", "admin", "t")
    second = a.apply_text(_table(30), "op", "admin", "t")
    assert (first.version, second.version) == (1, 2)
    assert b.shared is not None
    for row in b.shared.tables_after(b.seen_version):
        b.adopt(row)
    assert b.live is not None and b.live.entry.version == 2 and b.seen_version == 2
    assert b.live.entry.origin == "replica:a"
    # b applies next: the shared row number continues, a adopts it under the same version
    third = b.apply_text(_table(40), "op", "admin", "t")
    assert third.version == 3
    assert a.shared is not None
    for row in a.shared.tables_after(a.seen_version):
        a.adopt(row)
    assert a.live is not None and a.live.entry.version == 3

    _fail_candidate(a)
    rows = b.shared.rollbacks_after(b.last_rollback_id)
    assert [(r.route, r.replica, r.table_version) for r in rows] == [("r", "a", 3)]
    assert b.adopt_rollback(rows[0])
    assert b.live.states["r"].weight == 0.0
    assert b.live.states["r"].snapshot()["rollback"]["reason"].endswith("(on replica a)")
    assert not b.adopt_rollback(rows[0])  # taken once
    assert b.shared.rollbacks_after(b.last_rollback_id) == []


def test_a_rollback_of_a_route_changed_since_is_not_taken(tmp_path: Path) -> None:
    a, b = _store(tmp_path / "s.db", "a"), _store(tmp_path / "s.db", "b")
    a.apply_text(_table(20), "op", "admin", "t")
    _fail_candidate(a)
    b.apply(parse_table(_table(50)), "op", "admin")  # a new canary, judged by nobody yet
    assert b.shared is not None
    (row,) = b.shared.rollbacks_after(0)
    assert not b.adopt_rollback(row)
    assert b.live is not None and b.live.states["r"].weight == 50
