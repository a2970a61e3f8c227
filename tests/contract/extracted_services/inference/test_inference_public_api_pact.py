"""The inference service passes the public API pact's prediction interactions: the same
committed pact file the monolith passes, replayed by Pact's verifier against real
processes (``python -m extracted_services.inference`` on the session's MLflow registry).

The contracts gate's ``verify_pacts`` sets provider states up through the monolith's whole
API (training runs, ``/models/current``), which a service that only owns ``/predictions``
does not serve; so the states are set up here, through what this service does serve:

- "a model is serving": the service loaded ``risk-scorer@champion`` (it is ready);
- "a prediction exists": the transaction is scored through ``POST /api/v1/predictions``
  and the new ``prediction_id`` is handed to the pact (``fromProviderState``);
- "no model trained yet": replayed against a second service whose registry alias does
  not exist, so it serves no model and must answer 409 ``no-model`` like the monolith.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pact import Verifier

from contracts import pacts
from migration_playbook.runner.process import ManagedProcess
from tests.inference_fixtures import Registry
from tests.integration.extracted_services.inference._support import start_service

PATHS = ("/api/v1/predictions", "/healthz", "/readyz", "/metrics")


def _interactions(fresh: bool) -> list[dict[str, Any]]:
    document = json.loads(pacts.api_pact_path().read_text())
    keep = []
    for interaction in document["interactions"]:
        if not interaction["request"]["path"].startswith(PATHS):
            continue
        states = {s["name"] for s in interaction.get("providerStates", [])}
        if bool(states & pacts.FRESH_PROVIDER_STATES) == fresh:
            keep.append(interaction)
    return keep


class _States(BaseHTTPRequestHandler):
    service_url = ""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)) or b"{}")
        body: dict[str, Any] = {}
        if request.get("action", "setup") == "setup":
            if request.get("state") == "a prediction exists":
                transaction = request["params"]["transaction"]
                response = httpx.post(self.service_url + "/api/v1/predictions", json=transaction)
                response.raise_for_status()
                body = {"prediction_id": response.json()["prediction_id"]}
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _verify(service: ManagedProcess, interactions: list[dict[str, Any]], tmp: Path) -> None:
    document = json.loads(pacts.api_pact_path().read_text())
    document["interactions"] = interactions
    folder = tmp / "pact"
    folder.mkdir()
    (folder / "subset.json").write_text(json.dumps(document))
    handler = type("States", (_States,), {"service_url": service.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state_url = f"http://127.0.0.1:{server.server_address[1]}/_pact/state"
    verifier = (
        Verifier(pacts.API_PROVIDER, host="127.0.0.1")
        .add_transport(url=service.url)
        .add_source(folder)
        .state_handler(state_url, teardown=False, body=True)
        .set_coloured_output(enabled=False)
    )
    try:
        verifier.verify()
    except RuntimeError as exc:
        raise AssertionError(verifier.output(strip_ansi=True)[-4000:]) from exc
    finally:
        server.shutdown()
        server.server_close()
    results = verifier.results.get("interactionResults") or []
    assert len(results) == len(interactions)


@pytest.fixture(scope="module")
def serving(registry: Registry, inference_root: Path) -> Iterator[ManagedProcess]:
    process = start_service(inference_root, "pact-serving", registry.tracking_uri)
    yield process
    process.stop()


def test_prediction_interactions_verify_against_the_inference_service(
    serving: ManagedProcess, tmp_path: Path
) -> None:
    interactions = _interactions(fresh=False)
    descriptions = {i["description"] for i in interactions}
    assert {
        "score one transaction",
        "score a batch of transactions",
        "read the audit record of a prediction",
        "read a prediction that does not exist",
    } <= descriptions
    _verify(serving, interactions, tmp_path)


def test_scoring_without_a_model_verifies_against_a_service_with_no_model(
    registry: Registry, inference_root: Path, tmp_path: Path
) -> None:
    interactions = _interactions(fresh=True)
    assert [i["description"] for i in interactions] == [
        "score a transaction before any model is trained"
    ]
    process = start_service(
        inference_root,
        "pact-no-model",
        registry.tracking_uri,
        ready=False,
        INFERENCE_MODEL_URI="models:/risk-scorer@nobody-promoted-this",
    )
    try:
        process.ready_path = "/healthz"
        process.wait_ready(120)
        readiness = httpx.get(process.url + "/readyz")
        assert readiness.status_code == 503 and readiness.json()["model_version"] is None
        _verify(process, interactions, tmp_path)
    finally:
        process.stop()
