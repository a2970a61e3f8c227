"""The read-back gate: every decision a client was given can be read back through the proxy.

While ``/predictions`` is canaried, some decisions are scored (and audited) by the
candidate and the others by the monolith; a client holding a ``prediction_id`` must be
able to read it through the proxy whichever side scored it. The gate scores ``samples``
fresh transactions through the proxy (one account each, so the canary's sticky split sends
some to each side), reads every ``prediction_id`` back through the proxy, and asks each of
``sides`` directly which one holds it: every decision must read back identical, and each
side must have scored at least one (else the gate did not test what it claims).
"""

from __future__ import annotations

import time
from collections import Counter

import httpx

from contracts.predictions import Prediction, PredictionRecord
from datagen import generate
from migration_playbook.gates.result import GateResult, Measurement, Outcome, judge
from migration_playbook.phases.models import ReadBackGate

PREDICTIONS = "/api/v1/predictions"


def _holder(prediction_id: str, side_urls: dict[str, str]) -> str | None:
    """Which side's own store holds the decision (asked directly, not through the proxy)."""
    for name, url in side_urls.items():
        if httpx.get(f"{url}{PREDICTIONS}/{prediction_id}", timeout=10).status_code == 200:
            return name
    return None


def read_back_gate(
    spec: ReadBackGate, proxy_url: str, headers: dict[str, str], side_urls: dict[str, str]
) -> GateResult:
    transactions = generate(spec.samples, seed=int(time.time()), id_prefix="read-back")
    scored: list[Prediction] = []
    unreadable: list[str] = []
    with httpx.Client(base_url=proxy_url, headers=headers, timeout=30) as proxy:
        for index, tx in enumerate(transactions):
            answer = proxy.post(
                PREDICTIONS,
                content=tx.model_copy(update={"is_fraud": None}).model_dump_json(exclude_none=True),
                # One sticky key per request: the canary's split decides per account.
                headers={"content-type": "application/json", "X-Account-Id": f"rb-{index}"},
            )
            if answer.status_code != 200:
                return GateResult(
                    gate="read-back",
                    outcome=Outcome.FAIL,
                    summary=f"scoring through the proxy answered {answer.status_code}",
                    details={"body": answer.text[:2000]},
                )
            scored.append(Prediction.model_validate_json(answer.content))
        for prediction in scored:
            read = proxy.get(f"{PREDICTIONS}/{prediction.prediction_id}")
            if read.status_code != 200 or (
                PredictionRecord.model_validate_json(read.content).score != prediction.score
            ):
                unreadable.append(prediction.prediction_id)
    holders = Counter(_holder(p.prediction_id, side_urls) for p in scored)
    measurements = [
        Measurement(
            name="decisions not readable through the proxy",
            value=len(unreadable),
            threshold=f"== 0 (of {len(scored)})",
            ok=not unreadable,
        ),
        *(
            Measurement(
                name=f"decisions scored by {side}",
                value=holders.get(side, 0),
                threshold=">= 1",
                ok=holders.get(side, 0) >= 1,
            )
            for side in side_urls
        ),
    ]
    outcome = judge("read-back", measurements)
    return GateResult(
        gate="read-back",
        outcome=outcome,
        summary=(
            f"{len(scored) - len(unreadable)} of {len(scored)} decisions read back through "
            f"the proxy; scored by "
            + ", ".join(f"{side}: {holders.get(side, 0)}" for side in side_urls)
        ),
        measurements=measurements,
        details={"unreadable": unreadable[:50], "holders": dict(holders)},
    )
