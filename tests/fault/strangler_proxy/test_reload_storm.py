"""A reload storm: 100 route-table applies through the admin API, good and bad interleaved,
while clients keep calling. No client request fails, every bad table is refused with its
reason while the live one serves, and the live table is the last good one."""

from __future__ import annotations

import asyncio

import httpx

from tests.integration.strangler_proxy.conftest import table_yaml

APPLIES = 100
ROUTE = {
    "name": "models",
    "mode": "passthrough",
    "primary": "monolith",
    "match": {"path_prefix": "/api/v1/models"},
}
#: Broken tables of several kinds: an unknown upstream, a weight over 100, not YAML at all.
BAD = [
    lambda urls: table_yaml(urls, [{**ROUTE, "primary": "nowhere"}]),
    lambda urls: table_yaml(
        urls, [{**ROUTE, "mode": "canary", "candidate": "spare", "weight": 140}]
    ),
    lambda urls: "upstreams: {a: {url: 'ftp://x'}}\nroutes: [\n",
]
GOOD_PRIMARIES = ["inference", "spare", "monolith"]


def test_reload_storm_fails_no_request_and_keeps_the_last_good_table(
    start_proxy, fakes, urls
) -> None:
    proxy = start_proxy(table=table_yaml(urls, [ROUTE]))

    async def scenario() -> tuple[list[int], list[int], str]:
        stop = asyncio.Event()
        statuses: list[int] = []

        async def client_worker(client: httpx.AsyncClient) -> None:
            while not stop.is_set():
                statuses.append((await client.get("/api/v1/models")).status_code)

        async with (
            httpx.AsyncClient(base_url=proxy.url, headers=proxy.user, timeout=10) as client,
            httpx.AsyncClient(base_url=proxy.url, headers=proxy.operator, timeout=10) as admin,
        ):
            load = asyncio.gather(*(client_worker(client) for _ in range(16)))
            answers: list[int] = []
            last_good = "monolith"
            for i in range(APPLIES):
                if i % 2 == 0:
                    last_good = GOOD_PRIMARIES[(i // 2) % len(GOOD_PRIMARIES)]
                    table = table_yaml(urls, [{**ROUTE, "primary": last_good}])
                else:
                    table = BAD[(i // 2) % len(BAD)](urls)
                answers.append((await admin.post("/_admin/routes", content=table)).status_code)
            await asyncio.sleep(0.2)
            stop.set()
            await load
        return statuses, answers, last_good

    statuses, answers, last_good = asyncio.run(scenario())
    assert len(statuses) > 200
    assert set(statuses) == {200}, f"clients saw {sorted(set(statuses))}"
    assert answers == [200, 422] * (APPLIES // 2)
    with proxy.admin() as admin, proxy.client() as client:
        live = admin.get("/_admin/routes").json()
        assert live["version"] == 1 + APPLIES // 2
        assert client.get("/api/v1/models").json()["upstream"] == last_good
        applied = admin.get("/_admin/audit", params={"kind": "table-applied", "limit": 1000}).json()
        rejected = admin.get(
            "/_admin/audit", params={"kind": "table-rejected", "limit": 1000}
        ).json()
        metrics = client.get("/metrics").text
    startup, *by_admin = applied  # the table the proxy started with is logged first
    assert startup["actor"] == "file:routes.yaml"
    assert len(by_admin) == APPLIES // 2 and len(rejected) == APPLIES // 2
    assert all(entry["actor"] == "tester" for entry in by_admin + rejected)
    assert 'proxy_route_table_rejections_total{origin="admin"} 50.0' in metrics
    assert all(fake.hits["GET /api/v1/models"] > 0 for fake in fakes.values())
