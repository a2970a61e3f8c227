"""The ingestion service passes the public API pact's ``/transactions`` interactions, with
the contracts gate's own verification function, against a real process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import pacts
from migration_playbook.gates.contracts import verify_pacts
from migration_playbook.runner.process import ManagedProcess, free_port
from tests.amqp_support import fresh_vhost

PATHS = {"/api/v1/transactions", "/healthz", "/readyz"}


@pytest.fixture()
def ingestion(tmp_path: Path) -> Iterator[ManagedProcess]:
    with fresh_vhost("kit-contract") as uri:
        process = ManagedProcess(
            name="ingestion",
            module="extracted_services.ingestion",
            port=free_port(),
            log_path=tmp_path / "ingestion.log",
            env={
                "DATABASE_URL": f"sqlite:///{tmp_path / 'ingestion.db'}",
                "AMQP_URI": uri,
                "INGESTION_LOG_JSON": "false",
            },
        )
        process.start()
        try:
            process.wait_ready(60)
            yield process
        finally:
            process.stop()


def test_transactions_interactions_verify_against_the_ingestion_service(
    ingestion: ManagedProcess, tmp_path: Path
) -> None:
    document = json.loads(pacts.api_pact_path().read_text())
    document["interactions"] = [
        i for i in document["interactions"] if i["request"]["path"] in PATHS
    ]
    descriptions = {i["description"] for i in document["interactions"]}
    assert len([d for d in descriptions if d.startswith("ingest")]) >= 4
    subset = tmp_path / "transactions-pact.json"
    subset.write_text(json.dumps(document))
    result = verify_pacts(ingestion.url, pact_files=[subset])
    assert result.passed, result.output[-4000:]
    assert {i.description for i in result.interactions if i.outcome == "passed"} == descriptions
