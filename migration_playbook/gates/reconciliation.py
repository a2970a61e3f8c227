"""The reconciliation gate: stores agree across the boundary, and nothing is parked.

``ingestion``: everything the ingestion service accepted reached the monolith's database
through the events (counts, a checksum over ids and amounts, missing ids), polled until it
settles or the budget runs out. ``audit``: the monolith's prediction audit is fully
present in the inference service (the backfill's own reconciliation: counts, checksums).
Both also demand empty dead-letter queues.
"""

from __future__ import annotations

import time

from eventbus.dlq import depths
from migration_playbook.datamoves.backfill import backfill_audit
from migration_playbook.datamoves.reconcile import reconcile_ingestion
from migration_playbook.gates.result import GateResult, Measurement, Outcome, judge
from migration_playbook.phases.models import ReconciliationGate


def _dlq_measurements(amqp_uri: str) -> list[Measurement]:
    parked = {d.dead_letter_queue: d.parked for d in depths(amqp_uri)}
    total = sum(parked.values())
    return [
        Measurement(
            name="parked_in_dead_letter_queues",
            value=total,
            threshold="== 0",
            ok=total == 0,
        )
    ]


def ingestion_gate(
    spec: ReconciliationGate, ingestion_db: str, monolith_db: str, amqp_uri: str
) -> GateResult:
    deadline = time.monotonic() + spec.settle_s
    while True:
        report = reconcile_ingestion(ingestion_db, monolith_db, direction="ingestion-in-monolith")
        if report.ok or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    measurements = [
        Measurement(
            name="ingested_rows",
            value=report.ingestion.count,
            threshold="> 0",
            ok=report.ingestion.count > 0,
        ),
        Measurement(
            name="missing_in_monolith",
            value=report.missing_in_monolith_count,
            threshold="== 0",
            ok=report.missing_in_monolith_count == 0,
        ),
        Measurement(
            name="amount_mismatches",
            value=report.amount_mismatch_count,
            threshold="== 0",
            ok=report.amount_mismatch_count == 0,
        ),
    ]
    if spec.dlq_empty:
        measurements += _dlq_measurements(amqp_uri)
    outcome = judge("reconciliation", measurements, enough_data=report.ingestion.count > 0)
    return GateResult(
        gate="reconciliation:ingestion",
        outcome=outcome,
        summary=(
            f"ingestion {report.ingestion.count} rows, monolith {report.monolith.count}; "
            f"{report.missing_in_monolith_count} missing in the monolith, "
            f"{report.amount_mismatch_count} amount mismatches"
        ),
        measurements=measurements,
        details=report.to_dict(),
    )


def audit_gate(
    spec: ReconciliationGate, monolith_db: str, inference_db: str, amqp_uri: str
) -> GateResult:
    """Run the (idempotent) backfill once more and judge its reconciliation."""
    report = backfill_audit(monolith_db, inference_db)
    measurements = [
        Measurement(
            name="monolith_audit_rows_missing_in_service",
            value=report.missing_count,
            threshold="== 0",
            ok=report.missing_count == 0,
        ),
        Measurement(
            name="answer_mismatches",
            value=len(report.answer_mismatches),
            threshold="== 0",
            ok=not report.answer_mismatches,
        ),
    ]
    if spec.dlq_empty:
        measurements += _dlq_measurements(amqp_uri)
    outcome = judge("reconciliation", measurements)
    if not report.reconciled:
        outcome = Outcome.FAIL
    return GateResult(
        gate="reconciliation:audit",
        outcome=outcome,
        summary=(
            f"backfill copied {report.copied}, skipped {report.skipped}; "
            f"{report.missing_count} missing, {len(report.answer_mismatches)} mismatched"
        ),
        measurements=measurements,
        details=report.to_dict(),
    )
