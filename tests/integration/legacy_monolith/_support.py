"""Helpers for driving the monolith through its public API in tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from contracts.problems import PROBLEM_CONTENT_TYPE
from contracts.transactions import MAX_BATCH_SIZE, Transaction

JSON = "application/json"

AppFactory = Callable[..., Flask]
"""``make_app(**settings_overrides)``: a fresh monolith on the test's database."""


def tx_json(tx: Transaction, **overrides: Any) -> dict[str, Any]:
    """A transaction as a client sends it."""
    return {**tx.model_dump(mode="json"), **overrides}


def post_json(client: FlaskClient, path: str, document: object) -> Any:
    return client.post(path, data=json.dumps(document), content_type=JSON)


def ingest_all(client: FlaskClient, transactions: Iterable[Transaction]) -> int:
    """POST transactions in batches of 1,000; returns how many were accepted."""
    items = [tx_json(t) for t in transactions]
    accepted = 0
    for start in range(0, len(items), MAX_BATCH_SIZE):
        response = post_json(
            client, "/api/v1/transactions", {"transactions": items[start : start + MAX_BATCH_SIZE]}
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        accepted += response.get_json()["accepted"]
    return accepted


def score_all(client: FlaskClient, transactions: Iterable[Transaction]) -> list[dict[str, Any]]:
    """POST /predictions in batches of 1,000; returns every prediction."""
    items = [tx_json(t) for t in transactions]
    out: list[dict[str, Any]] = []
    for start in range(0, len(items), MAX_BATCH_SIZE):
        response = post_json(
            client, "/api/v1/predictions", {"transactions": items[start : start + MAX_BATCH_SIZE]}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        out.extend(response.get_json()["predictions"])
    return out


def wait_for_run(client: FlaskClient, location: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll a training run until it has finished."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(location)
        assert response.status_code == 200, response.get_data(as_text=True)
        run = response.get_json()
        if run["status"] in ("succeeded", "failed"):
            return run
        assert time.monotonic() < deadline, f"training run still {run['status']} after {timeout}s"
        time.sleep(0.05)


def assert_problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` (and problem type ``slug``)."""
    body_text = response.get_data(as_text=True)
    assert response.status_code == status, body_text
    assert response.mimetype == PROBLEM_CONTENT_TYPE, (response.mimetype, body_text)
    problem = json.loads(body_text)
    for member in ("type", "title", "status", "detail"):
        assert member in problem, (member, problem)
    assert problem["status"] == status
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    if slug is not None:
        assert problem["type"].endswith("/" + slug), problem
    return problem
