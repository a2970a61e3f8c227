"""The proxy's application factory and lifespan.

``create_app`` builds the components without I/O; the lifespan loads the table file,
starts the shadow workers and the file watcher, and closes everything on shutdown. The
app itself is a raw ASGI callable: the proxy's own endpoints (``/healthz``, ``/readyz``,
``/metrics``), the admin API under ``/_admin`` (FastAPI), and everything else forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.monitoring import Health, Readiness
from service_runtime.asgi import Receive, Scope, Send, send_problem, send_response
from strangler_proxy.access import AccessControl, load_policy
from strangler_proxy.admin import create_admin_app
from strangler_proxy.audit import ActionLog
from strangler_proxy.auth import TokenVerifier, warn_auth_disabled
from strangler_proxy.deps import Runtime
from strangler_proxy.forwarding import UpstreamPool
from strangler_proxy.metrics import ProxyMetrics
from strangler_proxy.paths import PathNotCanonical, canonical
from strangler_proxy.proxy import Forwarder
from strangler_proxy.reload import watch_table
from strangler_proxy.resilience import BreakerState
from strangler_proxy.route_table.loader import load_table
from strangler_proxy.settings import Settings
from strangler_proxy.shadow import ShadowDispatcher
from strangler_proxy.shared_state import SharedState
from strangler_proxy.table_store import TableStore

logger = logging.getLogger(__name__)
SERVICE_NAME = "strangler-proxy"
_HEALTH_BODY = Health(service=SERVICE_NAME).model_dump_json().encode()
_JSON = b"application/json"


class ProxyApp:
    """The ASGI application (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = metrics = ProxyMetrics()
        self.verifier = None if settings.auth_disabled else TokenVerifier(settings)
        access = None
        if settings.access_policy is not None and self.verifier is not None:
            access = AccessControl(load_policy(settings.access_policy))
        pool = UpstreamPool(settings.upstream_keepalive_s, self._breaker_changed, self._retried)
        self.shared = (
            SharedState(settings.shared_state_url, settings.replica_name)
            if settings.shared_state_url
            else None
        )
        self.actions = ActionLog(settings.audit_log)
        self.store = TableStore(
            pool,
            metrics,
            settings.history_size,
            settings.mismatch_samples,
            self.shared,
            self.actions,
        )
        self.shadow = ShadowDispatcher(
            metrics,
            settings.shadow_queue_size,
            settings.shadow_workers,
            settings.max_compared_body_bytes,
        )
        self.runtime = Runtime(
            settings, metrics, self.verifier, self.store, self.shadow, self.actions
        )
        self.admin = create_admin_app(self.runtime)
        self.forwarder = Forwarder(
            self.store,
            self.shadow,
            metrics,
            self.verifier,
            access,
            settings.max_buffered_body_bytes,
            settings.max_request_body_bytes,
            settings.max_compared_body_bytes,
            self.actions,
        )
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._sync: asyncio.Task[None] | None = None
        self.watcher_ready = asyncio.Event()

    def _breaker_changed(self, upstream: str, state: BreakerState) -> None:
        self.metrics.breaker_state.labels(upstream).set(int(state))
        log = logger.warning if state is BreakerState.OPEN else logger.info
        log("circuit breaker of upstream %s is now %s", upstream, state.name.lower())

    def _retried(self, upstream: str, allowed: bool) -> None:
        if allowed:
            self.metrics.retries.labels(upstream).inc()
        else:
            self.metrics.retry_budget_exhausted.labels(upstream).inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            try:
                normal = canonical(scope["path"], scope.get("raw_path"))
            except PathNotCanonical as exc:
                await send_problem(send, exc, scope["path"])
                return
            if normal is not None:
                scope = {**scope, "path": normal[0], "raw_path": normal[1]}
            path: str = scope["path"]
            if path.startswith("/_admin"):
                await self.admin(scope, receive, send)
            elif path == "/healthz":
                await send_response(send, 200, _HEALTH_BODY, _JSON)
            elif path == "/readyz":
                await self._ready(send)
            elif path == "/metrics":
                await send_response(
                    send, 200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST.encode()
                )
            else:
                await self.forwarder(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1003})

    async def _ready(self, send: Send) -> None:
        """The contract's ``Readiness`` shape, plus the live table's version."""
        live = self.store.live
        table = f"ok (version {live.entry.version})" if live else "no route table applied"
        body = Readiness(
            status="ready" if live else "not_ready",
            service=SERVICE_NAME,
            checks={"route_table": table},
        ).model_dump()
        body["table_version"] = live.entry.version if live else None
        await send_response(send, 200 if live else 503, json.dumps(body).encode(), _JSON)

    async def startup(self) -> None:
        if self.verifier is None:
            warn_auth_disabled()
        path = self.settings.route_table
        latest = self.shared.latest_table() if self.shared is not None else None
        if latest is not None:  # the replicas' table wins over this replica's file
            self.store.adopt(latest)
        elif path is not None:
            table = load_table(path)  # a bad file at start-up stops the proxy, loudly
            self.store.apply(table, applied_by=f"file:{path.name}", origin="startup")
        else:
            logger.warning("no PROXY_ROUTE_TABLE: not ready until a table is applied")
        self.shadow.start()
        if self.shared is not None:
            self._sync = asyncio.create_task(self._follow(self.shared))
        if path is not None and self.settings.watch_table:
            self._watcher = asyncio.create_task(
                watch_table(
                    self.store,
                    path,
                    self._stop,
                    self.settings.watch_debounce_ms,
                    self.watcher_ready,
                )
            )

    async def _follow(self, shared: SharedState) -> None:
        """Apply what other replicas published: newer tables, then rollbacks."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.shared_poll_s)
            try:
                tables = await asyncio.to_thread(shared.tables_after, self.store.seen_version)
                for row in tables:
                    self.store.adopt(row)
                rollbacks = await asyncio.to_thread(
                    shared.rollbacks_after, self.store.last_rollback_id
                )
                for rollback in rollbacks:
                    self.store.adopt_rollback(rollback)
            except sqlite3.Error as exc:  # the store is away: keep serving what is live
                logger.error("shared state %s unreadable: %s", shared.path, exc)

    async def shutdown(self) -> None:
        self._stop.set()
        if self._sync is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._sync, 5.0)
        if self._watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await asyncio.wait_for(self._watcher, 2.0)
                except TimeoutError:
                    self._watcher.cancel()
        await self.shadow.stop()
        await self.store.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:  # reported to the server, which exits
                    logger.error("proxy start-up failed: %s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(settings: Settings | None = None) -> ProxyApp:
    """Build a proxy app; with no settings, read them from the environment."""
    return ProxyApp(settings if settings is not None else Settings())
