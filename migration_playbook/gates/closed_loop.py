"""The closed-loop gate: drifted live traffic must make the system retrain, and heal itself
with a *better* model.

While the kit's generator sends drifted traffic through the proxy, the gate watches each
step from the services' own APIs: monitoring reports drift (and publishes
``drift_detected``), training registers a new version from a drift-triggered run, which
must beat the serving version on the same fresh labelled hold-out and pass its shadow
scoring on live traffic before it is promoted; the inference service serves it
(``model_promoted`` hot-swap), and the drift report, now against the new version's
reference, settles. No client request may fail.

A swap alone proves nothing about quality. So the gate also scores a labelled probe set of
the same drifted traffic through the proxy twice, once before the loop (the old model
answers) and once after the swap (the new one answers), and requires the new ROC AUC to be
higher by ``min_probe_gain``; and it reads the promoted version's training run, whose
hold-out comparison must say it beat the champion it replaced on enough data.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np

from contracts.client import ApiClient, ApiError
from contracts.dry_run import DRY_RUN_HEADER, DRY_RUN_VALUE
from contracts.registry import TrainingRun
from contracts.transactions import Transaction
from datagen import DRIFT_PRESETS, TransactionGenerator
from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.phases.models import ClosedLoopGate
from migration_playbook.traffic import TrafficReport, drive
from riskmodel.quality import roc_auc

LOOP_TRAFFIC_START = datetime(2026, 2, 2, tzinfo=UTC)


def _json(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        body = httpx.get(url, headers=headers, timeout=5.0).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def probe_set(spec: ClosedLoopGate) -> list[Transaction]:
    """Labelled transactions of the loop's drifted traffic (its own seed and id space)."""
    generator = TransactionGenerator(
        seed=spec.seed + 1, drift=DRIFT_PRESETS[spec.drift], id_prefix="loop-probe"
    )
    return generator.generate(spec.probe_rows)


def probe_auc(api: ApiClient, probe: list[Transaction]) -> tuple[float, str]:
    """ROC AUC of the model that answers through ``api`` on the labelled probe set, and
    the model version that answered. ``api`` sends ``X-Dry-Run: true``: the probe is scored
    and leaves no trace (no audit row, no event, nothing in monitoring's drift window)."""
    unlabelled = [tx.model_copy(update={"is_fraud": None}) for tx in probe]
    answers = []
    for start in range(0, len(unlabelled), 500):
        answers += api.score_batch(unlabelled[start : start + 500]).predictions
    labels = np.array([bool(tx.is_fraud) for tx in probe])
    scores = np.array([a.score for a in answers])
    versions = sorted({a.model_version for a in answers})
    return round(roc_auc(labels, scores), 4), ",".join(versions)


def _promoted_run(api: ApiClient, version: str) -> TrainingRun | None:
    """The training run that made ``version`` (None when the API cannot say)."""
    try:
        model = next((m for m in api.list_models().models if m.version == version), None)
        if model is None or model.training_run_id is None:
            return None
        return api.get_training_run(model.training_run_id)
    except ApiError:
        return None


def closed_loop_gate(
    spec: ClosedLoopGate,
    proxy_url: str,
    headers: dict[str, str],
    inference_url: str,
    token: str,
) -> GateResult:
    start_version = _json(f"{inference_url}/readyz").get("model_version")
    probe = probe_set(spec)
    dry_run = {**headers, DRY_RUN_HEADER: DRY_RUN_VALUE}
    with ApiClient(proxy_url, headers=dry_run, timeout=60) as api:
        auc_before, served_before = probe_auc(api, probe)
    traffic: dict[str, TrafficReport] = {}
    stop_traffic = threading.Event()

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
                stop=stop_traffic,
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
    stop_traffic.set()
    sender.join(timeout=spec.max_seconds + 30)
    sent = traffic.get("report")
    failed = sent.failed if sent else -1
    with ApiClient(proxy_url, headers=dry_run, timeout=60) as api:
        auc_after, served_after = probe_auc(api, probe) if new_version else (None, "")
    with ApiClient(proxy_url, headers=headers, timeout=60) as api:
        run = _promoted_run(api, new_version) if new_version else None
    evaluation = run.evaluation if run is not None else None
    hold_out_ok = bool(
        evaluation is not None
        and evaluation.sufficient
        and evaluation.champion_version == str(start_version)
        and evaluation.challenger_roc_auc is not None
        and evaluation.champion_roc_auc is not None
        and evaluation.challenger_roc_auc > evaluation.champion_roc_auc
    )
    gain = None if auc_after is None else round(auc_after - auc_before, 4)
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
            threshold="after drift, after its shadow scoring",
            ok="swap" in seen,
        ),
        Measurement(
            name="seconds_to_drift_settled",
            value=seen.get("settled"),
            threshold="status ok against the new reference",
            ok="settled" in seen,
        ),
        Measurement(
            name="hold_out_roc_auc_new_vs_replaced",
            value=(
                f"{evaluation.challenger_roc_auc} vs {evaluation.champion_roc_auc} "
                f"({evaluation.rows} rows, {evaluation.positives} fraud)"
                if evaluation is not None
                else None
            ),
            threshold="new > replaced, on a sufficient hold-out",
            ok=hold_out_ok,
        ),
        Measurement(
            name="probe_roc_auc_gain",
            value=gain,
            threshold=f">= {spec.min_probe_gain} (before {auc_before}, after {auc_after})",
            ok=gain is not None and gain >= spec.min_probe_gain,
        ),
        Measurement(name="failed_requests", value=failed, threshold="== 0", ok=failed == 0),
    ]
    ok = all(m.ok for m in measurements)
    steps = ", ".join(f"{k} at {v:.0f} s" for k, v in seen.items()) or "nothing happened"
    quality = f"; probe ROC AUC {auc_before} -> {auc_after}" if auc_after is not None else ""
    return GateResult(
        gate="closed-loop",
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        summary=f"v{start_version} -> v{new_version}: {steps}{quality}; {failed} failed requests",
        measurements=measurements,
        details={
            "traffic": sent.summary() if sent else {},
            "timeline": seen,
            "probe": {
                "rows": len(probe),
                "auc_before": auc_before,
                "served_before": served_before,
                "auc_after": auc_after,
                "served_after": served_after,
            },
            "promoted_run": run.model_dump(mode="json") if run is not None else None,
        },
    )
