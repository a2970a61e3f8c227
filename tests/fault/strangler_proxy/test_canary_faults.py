"""A canary's candidate that fails mid-canary, under concurrent load: it answers 500s,
hangs past its timeout, or stops accepting connections. No client may see a failure (the
fallback serves), the proxy's own guard rolls the canary back within its window, and the
action log and the route's state say which threshold broke and by how much."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.integration.strangler_proxy.conftest import table_yaml
from tests.integration.strangler_proxy.servers import FakeUpstream, ServerThread

WINDOW_S = 30
ROUTE = {
    "name": "predictions",
    "mode": "canary",
    "primary": "monolith",
    "candidate": "candidate",
    "weight": 50,
    "fallback": "monolith",
    "match": {"path_prefix": "/api/v1/predictions"},
    "rollback": {
        "max_error_rate": 0.05,
        "max_p99_ms": 1000,
        "window_s": WINDOW_S,
        "min_requests": 20,
    },
}


async def _load(url: str, headers: dict[str, str], stop: asyncio.Event) -> list[int]:
    """Eight clients posting predictions for changing accounts until ``stop``."""
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:

        async def worker(n: int) -> None:
            i = 0
            while not stop.is_set():
                i += 1
                answer = await client.post(
                    "/api/v1/predictions", json={}, headers={"X-Account-Id": f"acct-{n}-{i}"}
                )
                statuses.append(answer.status_code)

        await asyncio.gather(*(worker(n) for n in range(8)))
    return statuses


@pytest.mark.parametrize("fault", ["status_500", "hang", "refused"])
def test_candidate_fault_mid_canary_is_rolled_back_and_no_client_fails(
    start_proxy, urls, fault
) -> None:
    candidate = FakeUpstream("candidate")
    server = ServerThread(candidate).start()
    overrides = {"candidate": {"url": server.url, "timeout_s": 0.3, "retry": {"attempts": 1}}}
    proxy = start_proxy(table=table_yaml({**urls, "candidate": server.url}, [ROUTE], overrides))

    def state() -> dict:
        return httpx.get(proxy.url + "/_admin/routes/state", headers=proxy.operator).json()[
            "routes"
        ][0]

    async def scenario() -> tuple[list[int], float]:
        stop = asyncio.Event()
        load = asyncio.create_task(_load(proxy.url, proxy.user, stop))
        deadline = time.monotonic() + 20
        while candidate.hits["POST /api/v1/predictions"] < 30:  # the canary serves its share
            assert time.monotonic() < deadline, "the candidate got no traffic"
            await asyncio.sleep(0.05)
        healthy = await asyncio.to_thread(state)
        assert healthy["rollback"]["verdict"] == "healthy", healthy["rollback"]
        faulted = time.monotonic()
        if fault == "status_500":
            candidate.status = 500
        elif fault == "hang":
            candidate.delay_s = 5.0  # far past the upstream's 0.3 s timeout
        else:
            await asyncio.to_thread(server.stop)  # the port stops accepting connections
        while (await asyncio.to_thread(state))["rollback"]["verdict"] != "rolled_back":
            assert time.monotonic() - faulted < WINDOW_S, "no rollback within the window"
            await asyncio.sleep(0.05)
        took = time.monotonic() - faulted
        await asyncio.sleep(0.5)  # traffic after the rollback: the primary alone
        stop.set()
        return await load, took

    try:
        statuses, took = asyncio.run(scenario())
        after = candidate.hits["POST /api/v1/predictions"]
        with proxy.client() as client:
            for _ in range(10):
                assert client.post("/api/v1/predictions", json={}).status_code == 200
        rolled_back = state()
        with proxy.admin() as admin:
            logged = admin.get("/_admin/audit", params={"kind": "canary-rolled-back"}).json()
    finally:
        candidate.delay_s = 0.0
        if fault != "refused":
            server.stop()

    assert len(statuses) > 100
    assert set(statuses) == {200}, f"clients saw {sorted(set(statuses))}"
    assert took < WINDOW_S
    assert candidate.hits["POST /api/v1/predictions"] == after  # none routed there since
    assert rolled_back["effective_weight"] == 0
    event = rolled_back["rollback"]["event"]
    (entry,) = logged
    assert entry["actor"] == "proxy:rollback-guard" and entry["route"] == "predictions"
    assert entry["threshold"] == event["threshold"]
    if fault == "hang":  # a timeout is an error; its latency may break the p99 bound first
        assert event["threshold"] in {"max_error_rate", "max_p99_ms"}
    else:
        assert event["threshold"] == "max_error_rate" and event["measured"] > 0.05
    assert f"{event['threshold']} broken" in rolled_back["rollback"]["reason"]
