"""The typed client against ``httpx.MockTransport``: requests, models and typed errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contracts.client import (
    ApiClient,
    AsyncApiClient,
    Conflict,
    NoModel,
    NotEnoughData,
    NotFound,
    ResponseContractError,
    ServerError,
    TransportError,
    ValidationFailed,
)
from contracts.problems import PROBLEM_CONTENT_TYPE, problem_type
from contracts.registry import TrainingRunRequest
from datagen import generate

Handler = Callable[[httpx.Request], httpx.Response]
TX = generate(2, seed=3)


def _client(handler: Handler) -> ApiClient:
    return ApiClient("http://api.test", http=httpx.Client(transport=httpx.MockTransport(handler)))


def _problem(status: int, slug: str, **extra: Any) -> httpx.Response:
    body = {"type": problem_type(slug), "title": slug, "status": status, "detail": "d", **extra}
    return httpx.Response(status, json=body, headers={"Content-Type": PROBLEM_CONTENT_TYPE})


def _prediction(transaction_id: str) -> dict[str, Any]:
    return {
        "prediction_id": "p-1",
        "transaction_id": transaction_id,
        "score": 0.4,
        "decision": "review",
        "model_version": "2",
        "explanation": [{"feature": "amount_log", "value": 1.0, "attribution": 0.3}],
        "created_at": "2026-11-25T10:00:00Z",
    }


def test_ingest_sends_the_single_or_batch_form() -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers["content-type"]))
        body = json.loads(request.content)
        seen.append(body)
        ids = [t["transaction_id"] for t in body.get("transactions", [body])]
        results = [
            {"transaction_id": i, "status": "accepted", "ingested_at": "2026-11-25T10:00:00Z"}
            for i in ids
        ]
        return httpx.Response(202, json={"accepted": len(ids), "duplicates": 0, "results": results})

    with _client(handler) as client:
        one = client.ingest(TX[0])
        batch = client.ingest(TX)
    assert seen[0] == ("POST", "/api/v1/transactions", "application/json")
    assert seen[1]["transaction_id"] == TX[0].transaction_id and "transactions" not in seen[1]
    assert [t["transaction_id"] for t in seen[3]["transactions"]] == [t.transaction_id for t in TX]
    assert one.accepted == 1 and batch.accepted == 2


def test_score_parses_models_and_tolerates_new_response_fields() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={**_prediction("t"), "added_later": {"x": 1}})

    with _client(handler) as client:
        prediction = client.score(TX[0])
    assert prediction.decision == "review" and prediction.explanation[0].feature == "amount_log"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (_problem(409, "no-model"), NoModel),
        (_problem(409, "not-enough-data"), NotEnoughData),
        (_problem(409, "conflict"), Conflict),
        (_problem(404, "not-found"), NotFound),
        (_problem(503, "internal"), ServerError),
        (httpx.Response(502, text="<html>bad gateway</html>"), ServerError),
    ],
)
def test_errors_are_typed_and_carry_the_problem(
    response: httpx.Response, error: type[Exception]
) -> None:
    with _client(lambda _: response) as client, pytest.raises(error) as caught:
        client.get_prediction("p-1")
    assert caught.value.problem.status == response.status_code  # type: ignore[attr-defined]


def test_validation_errors_list_the_fields() -> None:
    errors = [{"field": "window", "message": "must be an integer from 50 to 100000"}]
    with _client(lambda _: _problem(422, "validation", errors=errors)) as client:
        with pytest.raises(ValidationFailed) as caught:
            client.drift_report(5)
    assert caught.value.errors[0].field == "window"


def test_a_body_that_breaks_the_contract_is_a_contract_error() -> None:
    broken = {**_prediction("t"), "score": 7.0}
    with _client(lambda _: httpx.Response(200, json=broken)) as client:
        with pytest.raises(ResponseContractError, match="score"):
            client.score(TX[0])


def test_path_ids_are_escaped_and_query_and_body_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _problem(404, "not-found")

    with _client(handler) as client:
        with pytest.raises(NotFound):
            client.get_prediction("a/b c")
        with pytest.raises(NotFound):
            client.start_training_run(TrainingRunRequest(epochs=3))
        with pytest.raises(NotFound):
            client.drift_report(200)
    assert seen[0].url.raw_path == b"/api/v1/predictions/a%2Fb%20c"
    assert json.loads(seen[1].content) == {"epochs": 3}
    assert seen[2].url.params["window"] == "200"


def test_readiness_503_is_a_result_not_an_error() -> None:
    body = {"status": "not_ready", "service": "s", "checks": {"database": "unreachable"}}
    with _client(lambda _: httpx.Response(503, json=body)) as client:
        assert client.readiness().status == "not_ready"


def test_transport_failures_are_translated() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with _client(handler) as client, pytest.raises(TransportError):
        client.health()


def test_async_client_has_the_same_behaviour() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/predictions":
            return httpx.Response(200, json={"predictions": [_prediction("a"), _prediction("b")]})
        return _problem(409, "no-model")

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncApiClient("http://api.test", http=http) as client:
            batch = await client.score_batch(TX)
            assert [p.transaction_id for p in batch.predictions] == ["a", "b"]
            with pytest.raises(NoModel):
                await client.current_model()
        await http.aclose()

    asyncio.run(run())
