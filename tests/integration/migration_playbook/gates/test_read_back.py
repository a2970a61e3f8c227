"""The read-back gate against a real proxy in canary between two real scoring sides (small
ASGI apps that audit what they score and serve it by id, on local ports): with the audit
route's ``read_fallback`` every decision reads back; without it, the candidate's do not,
and the gate fails saying how many."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.predictions import Prediction, PredictionRecord
from contracts.transactions import Transaction
from migration_playbook.gates.read_back import read_back_gate
from migration_playbook.gates.result import Outcome
from migration_playbook.phases.models import ReadBackGate
from strangler_proxy.app import create_app
from strangler_proxy.settings import Settings
from tests.integration.strangler_proxy.servers import ServerThread


class Side:
    """Scores every transaction 0.1 and keeps the record; GET by id, or a 404 problem."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.records: dict[str, PredictionRecord] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, data = self._answer(scope["method"], scope["path"], body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def _answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if method == "POST" and path == "/api/v1/predictions":
            tx = Transaction.model_validate_json(body)
            record = PredictionRecord(
                prediction_id=str(uuid.uuid4()),
                transaction_id=tx.transaction_id,
                score=0.1,
                decision="approve",
                model_version=self.name,
                explanation=[],
                created_at=datetime.now(UTC),
                transaction=tx,
            )
            self.records[record.prediction_id] = record
            answer = Prediction.model_validate(record.model_dump(exclude={"transaction"}))
            return 200, answer.model_dump_json().encode()
        record = self.records.get(path.rsplit("/", 1)[-1])
        if method == "GET" and record is not None:
            return 200, record.model_dump_json().encode()
        return 404, json.dumps({"status": 404, "title": "Not found"}).encode()


@pytest.fixture()
def sides() -> Iterator[dict[str, ServerThread]]:
    servers = {name: ServerThread(Side(name)).start() for name in ("monolith", "inference")}
    yield servers
    for server in servers.values():
        server.stop()


def _proxy(tmp_path: Path, sides: dict[str, ServerThread], read_fallback: bool) -> ServerThread:
    audit: dict[str, Any] = {
        "name": "prediction-audit",
        "mode": "passthrough",
        "primary": "monolith",
        "match": {"path": "/api/v1/predictions/{prediction_id}", "methods": ["GET"]},
    }
    if read_fallback:
        audit["read_fallback"] = "inference"
    table = {
        "upstreams": {name: {"url": s.url} for name, s in sides.items()},
        "routes": [
            {
                "name": "predictions",
                "mode": "canary",
                "primary": "monolith",
                "candidate": "inference",
                "weight": 50,
                "sticky_key": "header:X-Account-Id",
                "match": {"path": "/api/v1/predictions", "methods": ["POST"]},
            },
            audit,
        ],
        "default_upstream": "monolith",
    }
    path = tmp_path / "routes.yaml"
    path.write_text(yaml.safe_dump(table))
    settings = Settings(route_table=path, watch_table=False, environment="test", auth_disabled=True)
    return ServerThread(create_app(settings)).start()


@pytest.mark.parametrize("read_fallback", [True, False])
def test_every_decision_reads_back_only_with_the_read_fallback(
    tmp_path: Path, sides: dict[str, ServerThread], read_fallback: bool
) -> None:
    proxy = _proxy(tmp_path, sides, read_fallback)
    try:
        spec = ReadBackGate(kind="read-back", sides=("monolith", "inference"), samples=30)
        result = read_back_gate(spec, proxy.url, {}, {n: s.url for n, s in sides.items()})
    finally:
        proxy.stop()
    holders = result.details["holders"]
    assert holders["monolith"] >= 1 and holders["inference"] >= 1
    assert holders["monolith"] + holders["inference"] == 30
    if read_fallback:
        assert result.outcome is Outcome.PASS, result.summary
        assert result.details["unreadable"] == []
    else:
        assert result.outcome is Outcome.FAIL
        assert len(result.details["unreadable"]) == holders["inference"]
