"""Plausible ``reports/`` contents (phases 0-2, one automatic rollback) for report tests.

Built from the engine's own models (PhaseReport, StepReport, GateResult) and the proxy's
and contracts' response models, so a change to any of them breaks these fixtures loudly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.monitoring import DriftReport, DriftThresholds, DriftWindow, FeatureDrift
from contracts.proxy_admin.models import RollbackOut, RouteStateOut, ShadowOut, WindowOut
from contracts.registry import DataWindow, ModelList, ModelMetrics, ModelVersion
from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.orchestration.reports import PhaseReport, StepReport

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SLO = {"window_s": 30.0, "min_requests": 20, "max_error_rate": 0.02, "max_p99_ms": 250.0}


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _traffic(sent: int, failed: int = 0, p50: float = 12.0, p99: float = 48.0) -> dict[str, Any]:
    return {
        "sent": sent,
        "ok": sent - failed,
        "failed": failed,
        "by_outcome": {
            "prediction ok": (sent - failed) // 2,
            "ingest ok": (sent - failed + 1) // 2,
        },
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": [],
    }


def _gate(
    name: str,
    outcome: Outcome,
    summary: str,
    at: float,
    *ms: Measurement,
    evidence: list[str] | None = None,
) -> GateResult:
    return GateResult(
        gate=name,
        outcome=outcome,
        summary=summary,
        measurements=list(ms),
        evidence=evidence or [],
        started_at=_at(at),
        duration_s=1.5,
    )


def _client(sent: int, failed: int, at: float) -> GateResult:
    return _gate(
        "client-requests",
        Outcome.PASS if failed == 0 else Outcome.FAIL,
        f"{sent} requests through the proxy, {failed} failed for the client",
        at,
        Measurement(name="failed_requests", value=failed, threshold="== 0", ok=failed == 0),
    )


def _canary_route(
    weight: float,
    requests: int,
    errors: int,
    p50: float,
    p99: float,
    verdict: str,
    event: dict[str, Any] | None = None,
) -> dict[str, Any]:
    reason = None
    if verdict == "rolled_back" and event:
        measured, limit = event["measured"], event["limit"]
        reason = f"{event['threshold']} broken: measured {measured:.4g} > limit {limit}"
    state = RouteStateOut(
        name="predictions",
        mode="canary",
        primary="monolith",
        candidate="inference",
        fallback="monolith",
        served={"primary": requests * 3, "candidate": requests},
        configured_weight=weight,
        effective_weight=0.0 if verdict == "rolled_back" else weight,
        rollback=RollbackOut(
            verdict=verdict,  # type: ignore[arg-type]
            reason=reason,
            window=WindowOut(
                seconds=30.0,
                requests=requests,
                errors=errors,
                error_rate=errors / requests if requests else 0.0,
                p50_ms=p50,
                p99_ms=p99,
            ),
            slo=SLO,
            event=event,
        ),
    )
    return state.model_dump(mode="json")


def _shadow_route(comparisons: int, mismatches: int, agreed: float) -> dict[str, Any]:
    return RouteStateOut(
        name="transactions",
        mode="shadow",
        primary="monolith",
        candidate="ingestion",
        fallback=None,
        served={"primary": comparisons},
        shadow=ShadowOut(
            comparisons=comparisons,
            mismatches=mismatches,
            errors=0,
            dropped=0,
            mismatch_rate=mismatches / comparisons,
            decisions_compared=comparisons,
            decision_agreement_rate=agreed,
        ),
    ).model_dump(mode="json")


def _models() -> dict[str, Any]:
    def version(v: str, auc: float, current: bool, at: float) -> ModelVersion:
        return ModelVersion(
            version=v,
            created_at=_at(at),
            training_run_id=f"run-{v}",
            feature_spec_version="1",
            metrics=ModelMetrics(
                roc_auc=auc,
                pr_auc=auc - 0.31,
                brier=0.041,
                train_rows=4800,
                holdout_rows=1200,
                fraud_rate=0.021,
            ),
            data_window=DataWindow(start=_at(-86400), end=_at(at), rows=6000),
            is_current=current,
            promoted_at=_at(at) if current else None,
        )

    models = ModelList(
        current_version="2",
        models=[version("2", 0.934, True, -600), version("1", 0.912, False, -7200)],
    )
    return models.model_dump(mode="json")


def _drift() -> dict[str, Any]:
    features = [
        ("amount", 0.31, True),
        ("hour", 0.04, False),
        ("merchant_risk", 0.12, False),
        ("distance_km", 0.07, False),
        ("card_age_days", 0.02, False),
    ]
    report = DriftReport(
        status="drift",
        model_version="2",
        reference_rows=4800,
        window=DriftWindow(requested=500, size=500, start=_at(120), end=_at(190)),
        thresholds=DriftThresholds(),
        drifted_features=["amount"],
        features=[
            FeatureDrift(
                feature=f,
                psi=psi,
                ks_statistic=min(psi, 1.0),
                ks_pvalue=0.01,
                reference_mean=10.0,
                window_mean=12.0,
                drifted=d,
            )
            for f, psi, d in features
        ],
        score=FeatureDrift(
            feature="score",
            psi=0.09,
            ks_statistic=0.08,
            ks_pvalue=0.2,
            reference_mean=0.1,
            window_mean=0.11,
            drifted=False,
        ),
        computed_at=_at(195),
    )
    return report.model_dump(mode="json")


def phase_reports() -> list[PhaseReport]:
    """Phase 0 passes, phase 1 shadows ingestion and passes, phase 2 rolls back at 50 %."""
    p0 = PhaseReport(
        phase=0,
        name="baseline",
        title="Proxy in front, 100 % monolith",
        command="apply",
        outcome=Outcome.PASS,
        started_at=_at(0),
        finished_at=_at(40),
        pre_steps=[{"action": "seed-monolith", "result": "seeded 6000 transactions"}],
        steps=[
            StepReport(
                name="passthrough",
                outcome=Outcome.PASS,
                table_version=2,
                traffic=_traffic(240, 0, 9.5, 31.0),
                gates=[_client(240, 0, 14)],
                finished_at=_at(15),
            )
        ],
        gates=[
            _gate(
                "contracts",
                Outcome.PASS,
                "public API pacts verify against monolith, proxy",
                16,
                Measurement(name="interactions_failed", value=0, threshold="== 0", ok=True),
                evidence=["reports/contracts/phase-0.json"],
            ),
            _gate(
                "load:baseline",
                Outcome.PASS,
                "k6: p95 41 ms, 0.0 % failed",
                20,
                Measurement(name="http_req_failed", value=0.0, threshold="rate<0.01", ok=True),
                Measurement(name="p95_ms", value=41.2, threshold="p(95)<250", ok=True),
                evidence=["reports/k6/phase-0-baseline.log", "reports/k6/phase-0.json"],
            ),
        ],
        snapshot={"models": _models()},
    )
    p1 = PhaseReport(
        phase=1,
        name="shadow-ingestion",
        title="Shadow the ingestion service",
        command="apply",
        outcome=Outcome.PASS,
        started_at=_at(60),
        finished_at=_at(110),
        steps=[
            StepReport(
                name="shadow",
                outcome=Outcome.PASS,
                table_version=3,
                traffic=_traffic(400, 0, 11.0, 40.0),
                weights={"transactions": 0.0},
                proxy_routes=[_shadow_route(200, 2, 0.995)],
                gates=[
                    _client(400, 0, 80),
                    _gate(
                        "shadow:transactions",
                        Outcome.PASS,
                        "200 comparisons, mismatch rate 0.01, decision agreement 0.995",
                        82,
                        Measurement(name="mismatch_rate", value=0.01, threshold="<= 0.02", ok=True),
                    ),
                ],
                finished_at=_at(85),
            ),
            StepReport(
                name="cut-over",
                outcome=Outcome.PASS,
                table_version=4,
                traffic=_traffic(400, 0, 13.0, 44.0),
                weights={"transactions": 100.0},
                gates=[_client(400, 0, 100)],
                finished_at=_at(105),
            ),
        ],
        snapshot={"models": _models()},
    )
    rollback_event = {
        "at": 1234.5,
        "threshold": "max_p99_ms",
        "limit": 250.0,
        "measured": 812.0,
        "requests": 64,
        "errors": 1,
        "p99_ms": 812.0,
    }
    p2 = PhaseReport(
        phase=2,
        name="canary-inference",
        title="Canary the inference service",
        command="apply",
        outcome=Outcome.FAIL,
        reason="step canary-50 failed: canary:predictions fail: rolled_back: max_p99_ms broken",
        started_at=_at(120),
        finished_at=_at(200),
        steps=[
            StepReport(
                name="canary-10",
                outcome=Outcome.PASS,
                table_version=6,
                traffic=_traffic(400, 0, 12.0, 52.0),
                weights={"predictions": 10.0},
                proxy_routes=[_canary_route(10, 24, 0, 14.0, 61.0, "healthy")],
                gates=[_client(400, 0, 140)],
                finished_at=_at(145),
            ),
            StepReport(
                name="canary-25",
                outcome=Outcome.PASS,
                table_version=7,
                traffic=_traffic(400, 0, 12.5, 58.0),
                weights={"predictions": 25.0},
                proxy_routes=[_canary_route(25, 50, 0, 15.0, 70.0, "healthy")],
                gates=[_client(400, 0, 165)],
                finished_at=_at(170),
            ),
            StepReport(
                name="canary-50",
                outcome=Outcome.FAIL,
                table_version=8,
                traffic=_traffic(400, 3, 19.0, 640.0),
                weights={"predictions": 50.0},
                proxy_routes=[_canary_route(50, 64, 1, 90.0, 812.0, "rolled_back", rollback_event)],
                gates=[
                    _client(400, 3, 185),
                    _gate(
                        "canary:predictions",
                        Outcome.FAIL,
                        "rolled_back: max_p99_ms broken: measured 812 > limit 250.0",
                        186,
                        Measurement(
                            name="candidate_p99_ms", value=812.0, threshold="<= 250.0", ok=False
                        ),
                    ),
                ],
                rolled_back_to=9,
                finished_at=_at(190),
                reason="canary:predictions fail: rolled_back: max_p99_ms broken",
            ),
        ],
        snapshot={"models": _models(), "drift": _drift()},
    )
    return [p0, p1, p2]


def _ledger(reports: list[PhaseReport]) -> list[dict[str, Any]]:
    entries = []
    for report in reports:
        for pre in report.pre_steps:
            entries.append(
                {
                    "time": report.started_at.isoformat(),
                    "phase": report.phase,
                    "step": pre.action,
                    "action": "pre-step",
                    "outcome": "pass",
                    "table_version": None,
                    "gates": [],
                    "details": pre.model_dump(),
                }
            )
        for step in report.steps:
            entries.append(
                {
                    "time": (step.finished_at or report.started_at).isoformat(),
                    "phase": report.phase,
                    "step": step.name,
                    "action": "rollback" if step.rolled_back_to is not None else "step",
                    "outcome": step.outcome.value,
                    "table_version": step.table_version,
                    "gates": [g.model_dump(mode="json") for g in step.gates],
                    "details": {
                        "traffic": step.traffic,
                        "reason": step.reason,
                        "rolled_back_to": step.rolled_back_to,
                    },
                }
            )
        entries.append(
            {
                "time": (report.finished_at or report.started_at).isoformat(),
                "phase": report.phase,
                "step": "apply",
                "action": "apply",
                "outcome": report.outcome.value,
                "table_version": None,
                "gates": [g.model_dump(mode="json") for g in report.gates],
                "details": {"reason": report.reason},
            }
        )
    return entries


def write_reports(reports_dir: Path, reports: list[PhaseReport] | None = None) -> Path:
    """Write ``phase-N.json`` and ``ledger.jsonl`` into ``reports_dir`` (created) and return it."""
    reports = phase_reports() if reports is None else reports
    reports_dir.mkdir(parents=True, exist_ok=True)
    for report in reports:
        (reports_dir / f"phase-{report.phase}.json").write_text(report.model_dump_json(indent=2))
    lines = [json.dumps(e) for e in _ledger(reports)]
    (reports_dir / "ledger.jsonl").write_text("\n".join(lines) + "\n")
    return reports_dir
