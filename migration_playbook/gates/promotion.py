"""The promotion gate: a model trained and promoted through the public API is served
by the inference service within the budget (the ``model_promoted`` hot-swap path)."""

from __future__ import annotations

import time

import httpx

from contracts.client import ApiClient, ApiError
from contracts.registry import TrainingRunRequest
from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.phases.models import PromotionGate


def _served_version(url: str) -> str | None:
    try:
        body = httpx.get(f"{url}/readyz", timeout=2.0).json()
    except (httpx.HTTPError, ValueError):
        return None
    version = body.get("model_version") if isinstance(body, dict) else None
    return str(version) if version is not None else None


def promotion_gate(
    spec: PromotionGate, api_url: str, headers: dict[str, str], served_by_url: str
) -> GateResult:
    try:
        with ApiClient(api_url, headers=headers, timeout=60) as client:
            run = client.start_training_run(TrainingRunRequest(epochs=spec.epochs, promote=False))
            run = client.wait_for_training_run(run.run_id, timeout=spec.training_timeout_s)
            if run.model_version is None:
                return GateResult(
                    gate="promotion",
                    outcome=Outcome.FAIL,
                    summary=f"training run {run.run_id} {run.status}: {run.error}",
                )
            promoted_at = time.monotonic()
            client.promote_model(run.model_version)
    except (ApiError, TimeoutError) as exc:
        return GateResult(gate="promotion", outcome=Outcome.FAIL, summary=f"{exc}")
    served = None
    while time.monotonic() - promoted_at < spec.max_seconds:
        served = _served_version(served_by_url)
        if served == run.model_version:
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - promoted_at
    ok = served == run.model_version
    return GateResult(
        gate="promotion",
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        summary=(
            f"version {run.model_version} trained and promoted; served after {elapsed:.1f} s"
            if ok
            else f"version {run.model_version} promoted; still serving {served} "
            f"after {elapsed:.1f} s"
        ),
        measurements=[
            Measurement(
                name="seconds_to_serve",
                value=round(elapsed, 2),
                threshold=f"<= {spec.max_seconds}",
                ok=ok,
            )
        ],
        details={"run": run.model_dump(mode="json"), "served": served},
    )
