"""``read_fallback``: a read the primary answers 404 is asked of the other side, so a record
written by either side of a migration reads back through the proxy (real proxy, real
upstreams on local ports)."""

from __future__ import annotations

from tests.integration.strangler_proxy.conftest import table_yaml

AUDIT = {
    "name": "prediction-audit",
    "mode": "passthrough",
    "primary": "monolith",
    "read_fallback": "inference",
    "match": {"path": "/api/v1/predictions/{prediction_id}"},
}


def test_a_read_the_primary_does_not_know_is_answered_by_the_other_side(
    start_proxy, fakes, urls
) -> None:
    proxy = start_proxy(table=table_yaml(urls, [AUDIT]))
    fakes["monolith"].status = 404
    with proxy.client() as client, proxy.admin() as admin:
        answer = client.get("/api/v1/predictions/p-1")
        assert answer.status_code == 200 and answer.json()["upstream"] == "inference"
        head = client.head("/api/v1/predictions/p-1")
        assert head.status_code == 200 and head.headers["x-upstream"] == "inference"
        route = admin.get("/_admin/routes/state").json()["routes"][0]
        metrics = client.get("/metrics").text
    assert route["read_fallback"] == "inference"
    assert route["served"]["read_fallback"] == 2 and route["served"]["primary"] == 0
    assert 'proxy_read_fallbacks_total{route="prediction-audit",upstream="inference"} 2.0' in (
        metrics
    )
    assert fakes["monolith"].hits["GET /api/v1/predictions/p-1"] == 1
    assert fakes["inference"].hits["GET /api/v1/predictions/p-1"] == 1


def test_the_primary_answers_what_it_knows_and_the_fallbacks_404_is_the_clients(
    start_proxy, fakes, urls
) -> None:
    proxy = start_proxy(table=table_yaml(urls, [AUDIT]))
    with proxy.client() as client:
        known = client.get("/api/v1/predictions/p-2")
        assert known.status_code == 200 and known.json()["upstream"] == "monolith"
        assert fakes["inference"].hits["GET /api/v1/predictions/p-2"] == 0
        fakes["monolith"].status = 404
        fakes["inference"].status = 404
        missing = client.get("/api/v1/predictions/p-3")
    assert missing.status_code == 404 and missing.headers["x-upstream"] == "inference"


def test_only_reads_fall_back_on_404(start_proxy, fakes, urls) -> None:
    proxy = start_proxy(table=table_yaml(urls, [AUDIT]))
    fakes["monolith"].status = 404
    with proxy.client() as client:
        answer = client.delete("/api/v1/predictions/p-4")
    assert answer.status_code == 404 and answer.headers["x-upstream"] == "monolith"
    assert fakes["inference"].hits["DELETE /api/v1/predictions/p-4"] == 0


def test_without_read_fallback_a_404_is_final(start_proxy, fakes, urls) -> None:
    route = {key: value for key, value in AUDIT.items() if key != "read_fallback"}
    proxy = start_proxy(table=table_yaml(urls, [route]))
    fakes["monolith"].status = 404
    with proxy.client() as client:
        answer = client.get("/api/v1/predictions/p-5")
    assert answer.status_code == 404 and answer.headers["x-upstream"] == "monolith"
    assert fakes["inference"].hits["GET /api/v1/predictions/p-5"] == 0
