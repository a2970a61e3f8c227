"""The broker goes away while the service scores: every answer is still given and audited,
and every ``prediction_logged`` is published once the broker is back (the outbox holds
them). The broker is reached through a TCP forwarder that the test stops and restarts."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from contracts.events.models import PredictionLogged
from datagen import generate
from eventbus import build_topology
from migration_playbook.runner.process import free_port
from tests.amqp_support import TcpForwarder, amqp_uri, drain, fresh_vhost, message_count, wait_for
from tests.inference_fixtures import Registry
from tests.integration.extracted_services.inference._support import start_service


class _Forwarder(TcpForwarder):
    """Stopping also shuts the piped connections down: a bare ``close()`` while another
    thread is blocked in ``recv()`` neither wakes it nor sends a FIN, so the client would
    never notice the outage."""

    def stop(self) -> None:
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        super().stop()


QUEUE = build_topology().consumer_queue("monitoring", "prediction_logged").name


@pytest.fixture
def vhost() -> Iterator[str]:
    with fresh_vhost("inference-fault") as uri:
        yield uri


def test_decisions_made_during_a_broker_outage_are_published_after_it(
    vhost: str, registry: Registry, inference_root: Path
) -> None:
    port = free_port()
    forwarder = _Forwarder(port).start()
    process = start_service(
        inference_root,
        "outage",
        registry.tracking_uri,
        AMQP_URI=amqp_uri(vhost.rsplit("/", 1)[1], port),
        INFERENCE_MESSAGING_ENABLED="true",
    )
    try:
        forwarder.stop()  # the broker is gone
        wait_for(
            lambda: httpx.get(process.url + "/readyz").json()["checks"]["broker"] != "ok",
            20,
            "the service to notice the broker is gone",
        )
        bodies = [json.loads(t.model_dump_json()) for t in generate(60, seed=31, id_prefix="out")]
        ids = []
        for body in bodies[:20]:
            response = httpx.post(process.url + "/api/v1/predictions", json=body)
            assert response.status_code == 200, response.text
            ids.append(response.json()["prediction_id"])
        response = httpx.post(
            process.url + "/api/v1/predictions", json={"transactions": bodies[20:]}
        )
        assert response.status_code == 200, response.text
        ids += [p["prediction_id"] for p in response.json()["predictions"]]
        for prediction_id in ids[::10]:  # audited while the broker is away
            assert httpx.get(f"{process.url}/api/v1/predictions/{prediction_id}").is_success
        assert message_count(vhost, QUEUE) == 0

        forwarder = _Forwarder(port).start()  # the broker is back
        published: list[str] = []

        def all_published() -> bool:
            for _, body in drain(vhost, QUEUE):
                event = PredictionLogged.from_message(body)
                published.extend(d.prediction.prediction_id for d in event.decisions)
            return len(published) >= len(ids)

        wait_for(all_published, 30, "the held-back events")
        assert sorted(published) == sorted(ids)
        ready = httpx.get(process.url + "/readyz").json()
        assert ready["status"] == "ready" and ready["checks"]["broker"] == "ok"
    finally:
        process.stop()
        forwarder.stop()
