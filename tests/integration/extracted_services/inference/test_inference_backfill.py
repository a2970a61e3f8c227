"""Backfill of the monolith's prediction audit into the service's DB: idempotent, resumable,
reconciled; and the copied records read back exactly as the monolith answers them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, update
from typer.testing import CliRunner, Result

from datagen import generate
from extracted_services.inference.audit import AuditDatabase, AuditRow
from migration_playbook.cli import data
from migration_playbook.datamoves.backfill import backfill_audit, checkpoints
from tests.inference_fixtures import Monolith


def _score_on_monolith(monolith: Monolith, n: int) -> list[str]:
    client = monolith.app.test_client()
    ids = []
    transactions = generate(n, seed=2024, id_prefix="backfill")
    for start in range(0, n, 500):
        chunk = transactions[start : start + 500]
        body = {"transactions": [json.loads(t.model_dump_json()) for t in chunk]}
        response = client.post("/api/v1/predictions", json=body)
        assert response.status_code == 200
        ids += [p["prediction_id"] for p in response.get_json()["predictions"]]
    return ids


def _service_store(url: str) -> str:
    """The inference service's store with its schema, as the service creates it at start."""
    database = AuditDatabase(url)
    database.create_schema()
    database.dispose()
    return url


def _command(monolith: Monolith, service_url: str) -> Result:
    arguments = ["backfill-audit", "--monolith-db", monolith.database_url]
    return CliRunner().invoke(data.app, [*arguments, "--inference-db", service_url, "--json"])


def _monolith_total(monolith: Monolith) -> int:
    from sqlalchemy import func, select

    from legacy_monolith.schema import PredictionRow

    with monolith.app.extensions["monolith"].db.session() as session:
        return int(session.scalar(select(func.count()).select_from(PredictionRow)) or 0)


def test_inference_backfill_resumes_is_idempotent_and_reconciles(
    monolith: Monolith, tmp_path: Path
) -> None:
    ids = _score_on_monolith(monolith, 1000)
    total = _monolith_total(monolith)
    service_url = _service_store(f"sqlite:///{tmp_path / 'inference.db'}")

    # interrupted after two batches ...
    first = backfill_audit(monolith.database_url, service_url, batch_size=200, max_batches=2)
    assert (first.copied, first.complete, first.resumed_from) == (400, False, None)
    # ... resumed: continues after the checkpoint and reconciles
    second = backfill_audit(monolith.database_url, service_url, batch_size=200)
    assert second.resumed_from is not None
    assert second.copied == total - 400 and second.skipped == 0
    assert second.complete and second.reconciled, second.to_dict()
    assert second.monolith == second.service and second.service.count == total

    # a re-run copies nothing; so does one without its checkpoint (inserts are idempotent)
    assert backfill_audit(monolith.database_url, service_url).copied == 0
    target = AuditDatabase(service_url)
    with target.session() as session:
        session.execute(delete(checkpoints))
    again = backfill_audit(monolith.database_url, service_url, batch_size=300)
    assert (again.copied, again.skipped, again.reconciled) == (0, total, True)

    # every copied decision reads back exactly as the monolith answers it
    client = monolith.app.test_client()
    for prediction_id in ids[::97]:
        record = target.get(prediction_id)
        assert record is not None
        expected = client.get(f"/api/v1/predictions/{prediction_id}").get_json()
        assert record.model_dump(mode="json") == expected

    # a tampered copy is caught by the answers checksum, and the command fails
    with target.session() as session:
        session.execute(
            update(AuditRow).where(AuditRow.prediction_id == ids[0]).values(score=0.123)
        )
    target.dispose()
    result = CliRunner().invoke(
        data.app,
        [
            "backfill-audit",
            "--monolith-db",
            monolith.database_url,
            "--inference-db",
            service_url,
            "--json",
        ],  # fmt: skip
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["reconciled"] is False and report["answer_mismatches"] == [ids[0]]
    assert report["monolith"]["ids_sha256"] == report["service"]["ids_sha256"]


def test_inference_backfill_command_on_a_fresh_service_db(
    monolith: Monolith, tmp_path: Path
) -> None:
    _score_on_monolith(monolith, 50)
    service_url = _service_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    result = CliRunner().invoke(
        data.app,
        [
            "backfill-audit",
            "--monolith-db",
            monolith.database_url,
            "--inference-db",
            service_url,
            "--json",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["reconciled"] is True
    assert report["copied"] == report["monolith"]["count"] == _monolith_total(monolith)


def test_inference_backfill_copies_decisions_made_after_a_complete_pass(
    monolith: Monolith, tmp_path: Path
) -> None:
    """Ids are random: new decisions sort anywhere, so a finished pass must not skip them."""
    service_url = _service_store(f"sqlite:///{tmp_path / 'inference.db'}")
    _score_on_monolith(monolith, 300)
    first = backfill_audit(monolith.database_url, service_url, batch_size=100)
    assert first.complete and first.reconciled, first.to_dict()
    later = _score_on_monolith(monolith, 300)  # same transactions, new random prediction ids
    second = backfill_audit(monolith.database_url, service_url, batch_size=100)
    assert second.resumed_from is None
    assert second.copied == len(later), second.to_dict()
    assert second.reconciled and second.service.count == _monolith_total(monolith)
