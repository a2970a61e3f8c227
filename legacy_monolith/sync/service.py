"""The legacy sync process: the consumer thread plus a small health and metrics server."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from contracts.monitoring import Health, Readiness
from eventbus import RetryPolicy, SyncConsumer, build_topology
from legacy_monolith.db import Database
from legacy_monolith.sync.handler import CONSUMER, LegacySyncHandler
from legacy_monolith.sync.settings import SyncSettings

logger = logging.getLogger(__name__)
SERVICE_NAME = "legacy-sync"
EVENT_TYPE = "transactions_ingested"


class LegacySync:
    """Owns the database, the handler and the consumer of one sync process."""

    def __init__(self, settings: SyncSettings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.handler = LegacySyncHandler(self.db)
        queue = build_topology().consumer_queue(CONSUMER, EVENT_TYPE)
        self.consumer = SyncConsumer(
            settings.amqp_uri,
            queue,
            self.handler,
            policy=RetryPolicy(settings.sync_max_retries, settings.sync_retry_delay_s),
            prefetch=settings.sync_prefetch,
            name=f"{CONSUMER}-consumer",
        )
        self.registry = CollectorRegistry()
        gauges: list[tuple[str, str, Callable[[], float]]] = [
            (
                "legacy_sync_events_applied_total",
                "Events written into the monolith.",
                lambda: float(self.handler.applied),
            ),
            (
                "legacy_sync_events_skipped_total",
                "Redelivered events ignored.",
                lambda: float(self.handler.skipped),
            ),
            (
                "legacy_sync_events_retried_total",
                "Failed deliveries sent to retry.",
                lambda: float(self.consumer.stats.retried),
            ),
            (
                "legacy_sync_events_parked_total",
                "Deliveries parked in the dead-letter queue.",
                lambda: float(self.consumer.stats.parked),
            ),
        ]
        for name, doc, fn in gauges:
            Gauge(name, doc, registry=self.registry).set_function(fn)
        Gauge(
            "legacy_sync_broker_connected", "1 while consuming.", registry=self.registry
        ).set_function(lambda: float(self.consumer.connected.is_set()))

    def readiness(self) -> tuple[bool, Readiness]:
        checks = {
            "database": "ok" if self.db.reachable() else "unreachable",
            "broker": "ok"
            if self.consumer.connected.is_set()
            else f"unreachable: {self.consumer.last_error}",
        }
        ready = all(v == "ok" for v in checks.values())
        status = "ready" if ready else "not_ready"
        return ready, Readiness(status=status, service=SERVICE_NAME, checks=checks)

    def run(self, stop: threading.Event) -> None:
        if self.settings.migrate_on_start:
            self.db.migrate()
        server = ThreadingHTTPServer((self.settings.host, self.settings.port), _handler_for(self))
        threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
        logger.info(
            "legacy sync consuming %s; health on http://%s:%s",
            self.consumer.queue.name,
            self.settings.host,
            self.settings.port,
        )
        try:
            self.consumer.run(stop)
        finally:
            server.shutdown()
            self.db.dispose()


def _handler_for(sync: LegacySync) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/healthz":
                self._send(200, "application/json", Health(service=SERVICE_NAME).model_dump())
            elif self.path == "/readyz":
                ready, body = sync.readiness()
                self._send(200 if ready else 503, "application/json", body.model_dump())
            elif self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(sync.registry))
            else:
                self._send(404, "application/problem+json", {"status": 404, "title": "Not Found"})

        def _send(self, status: int, content_type: str, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return _Handler
