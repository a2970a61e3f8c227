"""Gates that read the proxy's own live state: the shadow comparison and the canary SLO."""

from __future__ import annotations

from typing import Any

from migration_playbook.gates.result import GateResult, Measurement, Outcome, judge
from migration_playbook.phases.models import CanaryGate, ShadowGate
from migration_playbook.proxy_admin import ProxyAdmin


def _route(admin: ProxyAdmin, name: str) -> dict[str, Any] | None:
    return admin.route_state(name)


def shadow_gate(spec: ShadowGate, admin: ProxyAdmin) -> GateResult:
    """Mismatch rate and decision agreement against the budget, with a minimum sample."""
    route = _route(admin, spec.route)
    shadow = (route or {}).get("shadow")
    if not shadow:
        return GateResult(
            gate=f"shadow:{spec.route}",
            outcome=Outcome.FAIL,
            summary=f"route {spec.route!r} is not shadowing (mode {(route or {}).get('mode')})",
        )
    comparisons = int(shadow.get("comparisons") or 0)
    mismatch_rate = shadow.get("mismatch_rate")
    agreement = shadow.get("decision_agreement_rate")
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
        Measurement(
            name="candidate_errors", value=shadow.get("errors"), threshold="reported", ok=True
        ),
        Measurement(
            name="dropped_copies", value=shadow.get("dropped"), threshold="reported", ok=True
        ),
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
        details={"shadow": shadow, "mismatch_samples": samples},
    )


def canary_gate(spec: CanaryGate, admin: ProxyAdmin) -> GateResult:
    """The candidate's SLO over the proxy's window: healthy passes, rolled back fails."""
    route = _route(admin, spec.route)
    rollback = (route or {}).get("rollback")
    if route is None or rollback is None:
        return GateResult(
            gate=f"canary:{spec.route}",
            outcome=Outcome.FAIL,
            summary=f"route {spec.route!r} has no canary rollback state",
            details={"route": route},
        )
    verdict = rollback.get("verdict")
    window = rollback.get("window") or {}
    slo = rollback.get("slo") or {}
    measurements = [
        Measurement(
            name="candidate_requests",
            value=window.get("requests"),
            threshold=f">= {slo.get('min_requests')}",
            ok=verdict != "insufficient_data",
        ),
        Measurement(
            name="candidate_error_rate",
            value=window.get("error_rate"),
            threshold=f"<= {slo.get('max_error_rate')}",
            ok=verdict != "rolled_back",
        ),
        Measurement(
            name="candidate_p99_ms",
            value=window.get("p99_ms"),
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
    reason = rollback.get("reason") or verdict
    return GateResult(
        gate=f"canary:{spec.route}",
        outcome=outcome,
        summary=f"{verdict}: {reason}; effective weight {route.get('effective_weight')}",
        measurements=measurements,
        details={"route": route},
    )
