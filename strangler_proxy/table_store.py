"""Versioned route tables: apply validates first and swaps one reference; revert is one call.

The live state of a version (compiled router, per-route state, upstream clients) is one
immutable ``LiveTable``; a request reads ``store.live`` once and finishes on that object,
so a swap never changes the table under a request in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from strangler_proxy.audit import ActionLog
from strangler_proxy.errors import NothingToRevert, RouteTableError
from strangler_proxy.forwarding import UpstreamClient, UpstreamPool, close_later
from strangler_proxy.matching import Router
from strangler_proxy.metrics import ProxyMetrics
from strangler_proxy.rollback import RollbackEvent, WindowStats
from strangler_proxy.route_state import RouteState
from strangler_proxy.route_table.diff import diff_tables
from strangler_proxy.route_table.loader import dump_table, parse_table
from strangler_proxy.route_table.models import RouteTable
from strangler_proxy.shared_state import SharedRollback, SharedState, SharedTable

logger = logging.getLogger(__name__)
RETIRE_AFTER_S = 30.0


@dataclass(frozen=True, slots=True)
class TableVersion:
    """One applied table and who applied it, when, from where, and what changed."""

    version: int
    table: RouteTable
    applied_by: str
    applied_at: datetime
    origin: str
    diff: tuple[str, ...]
    reverted_to: int | None = None


@dataclass(frozen=True, slots=True)
class LiveTable:
    entry: TableVersion
    router: Router
    states: dict[str, RouteState]
    clients: dict[str, UpstreamClient]


class TableStore:
    """The live table and its history."""

    def __init__(
        self,
        pool: UpstreamPool,
        metrics: ProxyMetrics,
        history: int,
        samples: int,
        shared: SharedState | None = None,
        actions: ActionLog | None = None,
    ) -> None:
        self._pool = pool
        self.actions = actions
        self.shared = shared
        self.last_rollback_id = shared.last_rollback_id() if shared is not None else 0
        #: The newest version this replica has applied or seen (its own or a shared one).
        self.seen_version = 0
        self._metrics = metrics
        self._samples = samples
        self.live: LiveTable | None = None
        self.history: deque[TableVersion] = deque(maxlen=history)
        self._next_version = 1
        self._tasks: set[asyncio.Task[None]] = set()

    def apply_text(self, text: str, applied_by: str, origin: str, source: str) -> TableVersion:
        """Validate and apply YAML text; on error the live table is untouched."""
        try:
            table = parse_table(text, source)
        except RouteTableError as exc:
            self._metrics.table_rejections.labels(origin).inc()
            if self.actions is not None:
                self.actions.record(
                    "table-rejected",
                    applied_by,
                    origin=origin,
                    source=source,
                    live_version=self.live.entry.version if self.live else None,
                    issues=[str(issue) for issue in exc.issues][:20],
                )
            logger.error(
                "route table from %s rejected; version %s keeps serving:\n%s",
                origin,
                self.live.entry.version if self.live else "none",
                "\n".join(f"  {issue}" for issue in exc.issues),
            )
            raise
        return self.apply(table, applied_by, origin)

    def apply(
        self, table: RouteTable, applied_by: str, origin: str, reverted_to: int | None = None
    ) -> TableVersion:
        previous = self.live
        if previous is not None and previous.entry.table == table and reverted_to is None:
            return previous.entry  # nothing changed (e.g. an editor touched the file)
        version = self._next_version
        if self.shared is not None:  # the shared row's id is the version on every replica
            version = self.shared.publish_table(dump_table(table), applied_by, origin, reverted_to)
        return self._swap(table, applied_by, origin, reverted_to, version)

    def adopt(self, shared: SharedTable) -> TableVersion | None:
        """Apply a table another replica published, under its version; None when this
        replica cannot parse it (logged; the live table keeps serving)."""
        try:
            table = parse_table(shared.yaml, f"shared table v{shared.version}")
        except RouteTableError as exc:
            logger.error("shared table v%d rejected here: %s", shared.version, exc.issues)
            return None
        return self._swap(
            table,
            shared.applied_by,
            f"replica:{shared.replica}",
            shared.reverted_to,
            shared.version,
        )

    def adopt_rollback(self, shared: SharedRollback) -> bool:
        """Roll a canary back because another replica did, if the route is still the one it
        judged (a table applied since may have changed it)."""
        self.last_rollback_id = max(self.last_rollback_id, shared.id)
        live = self.live
        state = live.states.get(shared.route) if live is not None else None
        if state is None or self.shared is None:
            return False
        judged = self.shared.table_at(shared.table_version)
        if judged is None:
            return False
        try:
            route = parse_table(judged, "shared").route(shared.route)
        except RouteTableError:
            return False
        if route != state.route:
            return False
        event = RollbackEvent(
            at=time.monotonic(),
            threshold=shared.threshold,  # type: ignore[arg-type]
            limit=shared.limit,
            measured=shared.measured,
            stats=WindowStats(0, 0, 0.0, None, None),
            replica=shared.replica,
        )
        return state.adopt_rollback(event)

    def _rolled_back_here(self, route: str, event: RollbackEvent) -> None:
        if self.actions is not None:
            self.actions.record(
                "canary-rolled-back",
                "proxy:rollback-guard",
                route=route,
                table_version=self.live.entry.version if self.live else None,
                threshold=event.threshold,
                limit=event.limit,
                measured=event.measured,
            )
        if self.shared is None or self.live is None:
            return
        self.shared.publish_rollback(
            self.live.entry.version, route, event.threshold, event.limit, event.measured
        )

    def _swap(
        self,
        table: RouteTable,
        applied_by: str,
        origin: str,
        reverted_to: int | None,
        version: int,
    ) -> TableVersion:
        previous = self.live
        entry = TableVersion(
            version=version,
            table=table,
            applied_by=applied_by,
            applied_at=datetime.now(UTC),
            origin=origin,
            diff=tuple(diff_tables(previous.entry.table if previous else None, table)),
            reverted_to=reverted_to,
        )
        clients, retired = self._pool.build(table.upstreams, previous.clients if previous else {})
        states: dict[str, RouteState] = {}
        for route in table.routes:
            old = previous.states.get(route.name) if previous else None
            states[route.name] = (
                old
                if old is not None and old.route == route
                else RouteState(route, self._metrics, self._samples, self._rolled_back_here)
            )
        self.live = LiveTable(entry, Router(table), states, clients)  # the atomic swap
        self._next_version = max(self._next_version, version) + 1
        self.seen_version = max(self.seen_version, version)
        self.history.append(entry)
        self._metrics.table_version.set(entry.version)
        if self.actions is not None:
            self.actions.record(
                "table-applied",
                applied_by,
                version=entry.version,
                origin=origin,
                reverted_to=reverted_to,
                diff=list(entry.diff),
            )
        logger.info(
            "route table version %d applied by %s via %s: %s",
            entry.version,
            applied_by,
            origin,
            "; ".join(entry.diff) or "no change",
        )
        if retired:
            self._retire(retired)
        return entry

    def revert(self, applied_by: str) -> TableVersion:
        """Re-apply the version before the live one, as a new version."""
        if self.live is None or len(self.history) < 2:
            raise NothingToRevert("there is no previous table version to revert to")
        current = self.live.entry
        ordered = list(self.history)
        index = next(i for i, e in enumerate(ordered) if e.version == current.version)
        if index == 0:
            raise NothingToRevert("the previous version is no longer in the history")
        target = ordered[index - 1]
        return self.apply(target.table, applied_by, "revert", reverted_to=target.version)

    def _retire(self, clients: list[UpstreamClient]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: no session was ever opened
            return
        task = loop.create_task(close_later(clients, RETIRE_AFTER_S))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.live is not None:
            for client in self.live.clients.values():
                await client.close()
