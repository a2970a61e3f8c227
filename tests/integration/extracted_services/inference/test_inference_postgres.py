"""The inference service on PostgreSQL: its audit and outbox tables in a fresh schema,
decisions stored and read back, and the backfill copying into it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from datagen import generate
from extracted_services.inference.audit import AuditDatabase
from migration_playbook.datamoves.backfill import backfill_audit
from tests.inference_fixtures import Monolith, Registry
from tests.integration.extracted_services.inference._support import start_service
from tests.postgres_support import fresh_schema

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_url() -> Iterator[str]:
    with fresh_schema("inference") as url:
        yield url


def test_inference_audit_on_postgres(
    registry: Registry, monolith: Monolith, pg_url: str, tmp_path: Path
) -> None:
    service = start_service(tmp_path, "pg", registry.tracking_uri, DATABASE_URL=pg_url)
    try:
        body = {"transactions": [json.loads(t.model_dump_json()) for t in generate(20, seed=5)]}
        answer = httpx.post(f"{service.url}/api/v1/predictions", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        first = answer.json()["predictions"][0]
        record = httpx.get(f"{service.url}/api/v1/predictions/{first['prediction_id']}")
        assert record.status_code == 200
        assert {k: record.json()[k] for k in first} == first
        assert httpx.get(f"{service.url}/readyz").json()["checks"]["database"].startswith("ok")
    finally:
        service.stop()

    scored = monolith.app.test_client().post("/api/v1/predictions", json=body)
    assert scored.status_code == 200
    report = backfill_audit(monolith.database_url, pg_url, batch_size=250)
    assert report.complete and report.reconciled, report.to_dict()
    assert report.monolith is not None and report.service == report.monolith
    target = AuditDatabase(pg_url)
    try:
        copied = target.get(scored.get_json()["predictions"][0]["prediction_id"])
        assert copied is not None and copied.transaction_id == "tx-5-00000000"
    finally:
        target.dispose()
