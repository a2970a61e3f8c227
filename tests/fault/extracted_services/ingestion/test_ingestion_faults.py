"""Faults on a real ingestion process: SIGKILL right after a 202, and a broker that is
unreachable (a closed local port) and then comes back."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eventbus import build_topology
from migration_playbook.runner.process import ManagedProcess, free_port
from tests.amqp_support import TcpForwarder, amqp_uri, drain, fresh_vhost, wait_for

QUEUE = build_topology().consumer_queue("legacy_sync", "transactions_ingested")


def tx(i: str) -> dict[str, object]:
    return {
        "transaction_id": f"tx-{i}",
        "account_id": "acct-1",
        "amount": 12.5,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "DE",
        "channel": "web",
        "timestamp": "2026-11-25T10:15:00+01:00",
    }


@pytest.fixture()
def vhost() -> Iterator[str]:
    with fresh_vhost("kit-fault") as uri:
        yield uri


def service(tmp_path: Path, amqp: str, port: int, **env: str) -> ManagedProcess:
    process = ManagedProcess(
        name="ingestion",
        module="extracted_services.ingestion",
        port=port,
        log_path=tmp_path / "ingestion.log",
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'ingestion.db'}",
            "AMQP_URI": amqp,
            "INGESTION_LOG_JSON": "false",
            **env,
        },
        ready_path="/healthz",
    )
    process.start()
    process.wait_ready(60)
    return process


def published_ids(uri: str) -> list[str]:
    return [
        t["transaction_id"]
        for _props, body in drain(uri, QUEUE.name)
        for t in json.loads(body)["transactions"]
    ]


def test_sigkill_right_after_a_202_still_publishes_after_restart(
    tmp_path: Path, vhost: str
) -> None:
    # The broker is out of reach (a closed port) while the 202 is given, so the event can
    # only have been committed to the outbox; then the process dies without a goodbye.
    vhost_name = vhost.rsplit("/", 1)[1]
    port = free_port()
    first = service(
        tmp_path, amqp_uri(vhost_name, free_port()), port, INGESTION_BROKER_GRACE_S="3600"
    )
    response = httpx.post(first.url + "/api/v1/transactions", json=tx("killed"))
    assert response.status_code == 202
    assert first.pid is not None
    os.killpg(first.pid, signal.SIGKILL)
    first.stop()
    assert published_ids(vhost) == []

    second = service(tmp_path, vhost, port)
    try:
        collected: list[str] = []
        wait_for(lambda: bool(collected.extend(published_ids(vhost)) or collected), 20, "event")
        assert collected == ["tx-killed"]
        metrics = httpx.get(second.url + "/metrics").text
        assert "ingestion_outbox_depth 0.0" in metrics
    finally:
        second.stop()


def test_broker_unreachable_gives_quick_503s_then_recovers(tmp_path: Path, vhost: str) -> None:
    vhost_name = vhost.rsplit("/", 1)[1]
    broker_port = free_port()  # nothing listens here yet
    process = service(
        tmp_path, amqp_uri(vhost_name, broker_port), free_port(), INGESTION_BROKER_GRACE_S="0.5"
    )
    forwarder: TcpForwarder | None = None
    try:
        time.sleep(0.8)
        for i in range(5):
            started = time.monotonic()
            response = httpx.post(
                process.url + "/api/v1/transactions", json=tx(f"refused-{i}"), timeout=5
            )
            # Refused without a connect attempt on the request's path (that would take
            # the 3 s connect timeout); loose enough for a busy machine.
            assert time.monotonic() - started < 2.0
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["type"].endswith("/unavailable") and problem["status"] == 503
            assert "broker" in problem["detail"]
            assert response.headers["retry-after"]
        assert httpx.get(process.url + "/readyz").status_code == 503
        # Bad input is still told apart from an outage.
        bad = httpx.post(process.url + "/api/v1/transactions", json={"amount": -1})
        assert bad.status_code == 422

        forwarder = TcpForwarder(broker_port).start()  # the broker is back
        wait_for(lambda: httpx.get(process.url + "/readyz").status_code == 200, 20, "readiness")
        ok = httpx.post(process.url + "/api/v1/transactions", json=tx("after"))
        assert ok.status_code == 202
        collected: list[str] = []
        wait_for(lambda: bool(collected.extend(published_ids(vhost)) or collected), 20, "event")
        assert collected == ["tx-after"]  # refused batches were not stored, nor published
    finally:
        process.stop()
        if forwarder is not None:
            forwarder.stop()
