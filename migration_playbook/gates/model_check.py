"""The model gate: the served model's quality on a labelled hold-out, and parity.

Quality: generated labelled transactions (a seed no training run uses) are scored through
the target; the ROC AUC must not fall below the serving model's recorded AUC by more than
the budget. Parity: the same transactions scored by the target and by another process
(the monolith) must agree in score (within the tolerance), decision and explanation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contracts.client import ApiClient, ApiError
from contracts.predictions import Prediction
from contracts.transactions import Transaction
from datagen import TransactionGenerator
from migration_playbook.gates.result import GateResult, Measurement, Outcome, judge
from migration_playbook.phases.models import ModelGate
from riskmodel.quality import roc_auc

HOLDOUT_SEED = 424242


def _score_all(client: ApiClient, transactions: Sequence[Transaction]) -> list[Prediction]:
    out: list[Prediction] = []
    for start in range(0, len(transactions), 500):
        out.extend(client.score_batch(transactions[start : start + 500]).predictions)
    return out


def model_gate(
    spec: ModelGate, target_url: str, headers: dict[str, str], parity_url: str | None
) -> GateResult:
    generator = TransactionGenerator(seed=HOLDOUT_SEED, id_prefix="holdout")
    labelled = generator.generate(spec.holdout_rows)
    unlabelled = [tx.model_copy(update={"is_fraud": None}) for tx in labelled]
    measurements: list[Measurement] = []
    details: dict[str, object] = {}
    try:
        with ApiClient(target_url, headers=headers, timeout=60) as client:
            champion = client.current_model()
            predictions = _score_all(client, unlabelled)
    except ApiError as exc:
        return GateResult(gate="model", outcome=Outcome.FAIL, summary=f"scoring failed: {exc}")
    labels = np.array([bool(tx.is_fraud) for tx in labelled])
    auc = roc_auc(labels, np.array([p.score for p in predictions]))
    floor = champion.metrics.roc_auc - spec.max_auc_drop
    measurements.append(
        Measurement(
            name="holdout_roc_auc",
            value=round(auc, 4),
            threshold=f">= {floor:.4f}",
            ok=auc >= floor,
        )
    )
    details.update(
        served_versions=sorted({p.model_version for p in predictions}),
        champion_version=champion.version,
        champion_recorded_auc=champion.metrics.roc_auc,
        holdout_rows=len(labelled),
        positives=int(labels.sum()),
    )
    if spec.parity_with is not None and parity_url is not None:
        sample = unlabelled[: spec.parity_rows]
        try:
            with ApiClient(parity_url, timeout=60) as reference:
                expected = _score_all(reference, sample)
        except ApiError as exc:
            return GateResult(
                gate="model", outcome=Outcome.FAIL, summary=f"parity scoring failed: {exc}"
            )
        served = predictions[: spec.parity_rows]
        max_diff = max(abs(a.score - b.score) for a, b in zip(served, expected, strict=True))
        same_decision = sum(a.decision == b.decision for a, b in zip(served, expected, strict=True))
        same_reasons = sum(
            [x.feature for x in a.explanation] == [x.feature for x in b.explanation]
            for a, b in zip(served, expected, strict=True)
        )
        measurements += [
            Measurement(
                name="parity_max_score_diff",
                value=max_diff,
                threshold=f"<= {spec.parity_tolerance}",
                ok=max_diff <= spec.parity_tolerance,
            ),
            Measurement(
                name="parity_same_decision",
                value=same_decision,
                threshold=f"== {len(sample)}",
                ok=same_decision == len(sample),
            ),
            Measurement(
                name="parity_same_explanation",
                value=same_reasons,
                threshold=f"== {len(sample)}",
                ok=same_reasons == len(sample),
            ),
        ]
    outcome = judge("model", measurements, enough_data=bool(labels.any()))
    return GateResult(
        gate="model",
        outcome=outcome,
        summary=f"hold-out ROC AUC {auc:.4f} (champion v{champion.version} recorded "
        f"{champion.metrics.roc_auc:.4f})"
        + "".join(
            f"; {m.name.removeprefix('parity_')} {m.value:.2g}"
            if isinstance(m.value, float)
            else f"; {m.name.removeprefix('parity_')} {m.value}"
            for m in measurements
            if m.name.startswith("parity_")
        ),
        measurements=measurements,
        details=details,
    )
