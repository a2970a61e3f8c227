"""Gates that read the proxy's own live state: the shadow comparison and the canary SLO."""

from __future__ import annotations

from contracts.proxy_admin import ProxyAdminClient
from migration_playbook.gates.result import GateResult, Measurement, Outcome, judge
from migration_playbook.phases.models import CanaryGate, ShadowGate


def shadow_gate(spec: ShadowGate, admin: ProxyAdminClient) -> GateResult:
    """Mismatch rate and decision agreement against the budget, with a minimum sample."""
    route = admin.route_state(spec.route)
    shadow = route.shadow if route is not None else None
    if route is None or shadow is None:
        mode = route.mode if route is not None else None
        return GateResult(
            gate=f"shadow:{spec.route}",
            outcome=Outcome.FAIL,
            summary=f"route {spec.route!r} is not shadowing (mode {mode})",
        )
    comparisons = shadow.comparisons
    mismatch_rate = shadow.mismatch_rate
    agreement = shadow.decision_agreement_rate
    measurements = [
        Measurement(
            name="comparisons",
            value=comparisons,
            threshold=f">= {spec.min_samples}",
            ok=comparisons >= spec.min_samples,
        ),
        Measurement(
            name="mismatch_rate",
            value=mismatch_rate,
            threshold=f"<= {spec.max_mismatch_rate}",
            ok=mismatch_rate is not None and mismatch_rate <= spec.max_mismatch_rate,
        ),
        Measurement(
            name="decision_agreement_rate",
            value=agreement,
            threshold=f">= {spec.min_decision_agreement}",
            ok=agreement is not None and agreement >= spec.min_decision_agreement,
        ),
        Measurement(name="candidate_errors", value=shadow.errors, threshold="reported", ok=True),
        Measurement(name="dropped_copies", value=shadow.dropped, threshold="reported", ok=True),
    ]
    outcome = judge("shadow", measurements, enough_data=comparisons >= spec.min_samples)
    samples = admin.mismatches(spec.route)[:3] if outcome is Outcome.FAIL else []
    return GateResult(
        gate=f"shadow:{spec.route}",
        outcome=outcome,
        summary=(
            f"{comparisons} comparisons, mismatch rate {mismatch_rate}, "
            f"decision agreement {agreement}"
        ),
        measurements=measurements,
        details={
            "shadow": shadow.model_dump(mode="json"),
            "mismatch_samples": [s.model_dump(mode="json") for s in samples],
        },
    )


def canary_gate(spec: CanaryGate, admin: ProxyAdminClient) -> GateResult:
    """The candidate's SLO over the proxy's window: healthy passes, rolled back fails."""
    route = admin.route_state(spec.route)
    rollback = route.rollback if route is not None else None
    if route is None or rollback is None:
        return GateResult(
            gate=f"canary:{spec.route}",
            outcome=Outcome.FAIL,
            summary=f"route {spec.route!r} has no canary rollback state",
            details={"route": route.model_dump(mode="json") if route is not None else None},
        )
    verdict = rollback.verdict
    window = rollback.window
    slo = rollback.slo or {}
    measurements = [
        Measurement(
            name="candidate_requests",
            value=window.requests if window else None,
            threshold=f">= {slo.get('min_requests')}",
            ok=verdict != "insufficient_data",
        ),
        Measurement(
            name="candidate_error_rate",
            value=window.error_rate if window else None,
            threshold=f"<= {slo.get('max_error_rate')}",
            ok=verdict != "rolled_back",
        ),
        Measurement(
            name="candidate_p99_ms",
            value=window.p99_ms if window else None,
            threshold=f"<= {slo.get('max_p99_ms')}",
            ok=verdict != "rolled_back",
        ),
    ]
    if verdict == "healthy":
        outcome = Outcome.PASS
    elif verdict == "insufficient_data":
        outcome = Outcome.INSUFFICIENT_DATA
    else:
        outcome = Outcome.FAIL
    reason = rollback.reason or verdict
    return GateResult(
        gate=f"canary:{spec.route}",
        outcome=outcome,
        summary=f"{verdict}: {reason}; effective weight {route.effective_weight}",
        measurements=measurements,
        details={"route": route.model_dump(mode="json")},
    )
