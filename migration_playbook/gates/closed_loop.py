"""The closed-loop gate: drifted live traffic must make the system retrain and heal itself.

While the kit's generator sends drifted traffic through the proxy, the gate watches each
step from the services' own APIs: monitoring reports drift (and publishes
``drift_detected``), training registers a new version from a drift-triggered run and
promotes it, the inference service serves it (``model_promoted`` hot-swap), and the drift
report, now against the new version's reference, settles. No client request may fail.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.phases.models import ClosedLoopGate
from migration_playbook.traffic import TrafficReport, drive

LOOP_TRAFFIC_START = datetime(2026, 2, 2, tzinfo=UTC)


def _json(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        body = httpx.get(url, headers=headers, timeout=5.0).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def closed_loop_gate(
    spec: ClosedLoopGate,
    proxy_url: str,
    headers: dict[str, str],
    inference_url: str,
    token: str,
) -> GateResult:
    start_version = _json(f"{inference_url}/readyz").get("model_version")
    traffic: dict[str, TrafficReport] = {}

    def _send() -> None:
        traffic["report"] = asyncio.run(
            drive(
                proxy_url,
                rate_per_s=spec.rate_per_s,
                duration_s=spec.max_seconds,
                predictions_share=spec.predictions_share,
                drift=spec.drift,
                seed=spec.seed,
                token=token,
                id_prefix="closed-loop",
                # Later (in the transactions' own time) than any earlier traffic, and on a
                # Monday like the history: "the newest rows" a retraining run reads are then
                # this drifted traffic, with no weekday artefact in the reference.
                start=LOOP_TRAFFIC_START,
            )
        )

    sender = threading.Thread(target=_send, name="closed-loop-traffic", daemon=True)
    began = time.monotonic()
    sender.start()
    seen: dict[str, float] = {}
    new_version: str | None = None
    drift_url = f"{proxy_url}/api/v1/monitoring/drift?window={spec.window}"
    while time.monotonic() - began < spec.max_seconds:
        now = time.monotonic() - began
        report = _json(drift_url, headers)
        if "drift" not in seen and report.get("status") == "drift":
            seen["drift"] = now
        served = _json(f"{inference_url}/readyz").get("model_version")
        if "drift" in seen and served not in (None, start_version) and "swap" not in seen:
            seen["swap"] = now
            new_version = str(served)
        if "swap" in seen and report.get("model_version") == new_version:
            if report.get("status") == "ok":
                seen["settled"] = now
                break
        time.sleep(1.0)
    sender.join(timeout=spec.max_seconds + 30)
    sent = traffic.get("report")
    failed = sent.failed if sent else -1
    measurements = [
        Measurement(
            name="seconds_to_drift_detected",
            value=seen.get("drift"),
            threshold=f"within {spec.max_seconds} s",
            ok="drift" in seen,
        ),
        Measurement(
            name="seconds_to_new_model_served",
            value=seen.get("swap"),
            threshold="after drift",
            ok="swap" in seen,
        ),
        Measurement(
            name="seconds_to_drift_settled",
            value=seen.get("settled"),
            threshold="status ok against the new reference",
            ok="settled" in seen,
        ),
        Measurement(name="failed_requests", value=failed, threshold="== 0", ok=failed == 0),
    ]
    ok = all(m.ok for m in measurements)
    steps = ", ".join(f"{k} at {v:.0f} s" for k, v in seen.items()) or "nothing happened"
    return GateResult(
        gate="closed-loop",
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        summary=f"v{start_version} -> v{new_version}: {steps}; {failed} failed requests",
        measurements=measurements,
        details={"traffic": sent.summary() if sent else {}, "timeline": seen},
    )
