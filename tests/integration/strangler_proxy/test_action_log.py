"""The proxy's action log through a real proxy: who applied or was refused a table, who
promoted a model or started a training run (the calls the access policy marks ``audit:
true``), read at ``GET /_admin/audit`` by the operator and auditor roles only, and kept
across a restart in ``PROXY_AUDIT_LOG``. (The automatic rollback's entry is checked in
test_resilience.py, where a canary really fails.)"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import yaml

from tests.integration.strangler_proxy.conftest import RunningProxy, make_token, table_yaml

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "contracts" / "openapi" / "v1-access.yaml"


def _as(proxy: RunningProxy, subject: str, *roles: str) -> httpx.Client:
    token = make_token(list(roles), sub=subject)
    return httpx.Client(
        base_url=proxy.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def _audit(proxy: RunningProxy, **params: object) -> list[dict[str, object]]:
    with _as(proxy, "ada", "auditor") as auditor:
        answer = auditor.get("/_admin/audit", params=params)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, object]] = answer.json()
    return entries


def test_audited_calls_are_logged_with_who_and_the_answer(start_proxy, fakes) -> None:
    proxy = start_proxy([], access_policy=POLICY)
    with _as(proxy, "mo", "modeler") as modeler, _as(proxy, "sam", "scorer") as scorer:
        assert modeler.post("/api/v1/models/3/promote", json={}).status_code == 200
        assert modeler.post("/api/v1/models/training-runs", json={}).status_code == 200
        assert modeler.get("/api/v1/models").status_code == 200  # a read: not audited
        assert scorer.post("/api/v1/predictions", json={}).status_code == 200  # not audited
        assert scorer.post("/api/v1/models/3/promote", json={}).status_code == 403
    calls = _audit(proxy, kind="api-call")
    assert [(c["actor"], c["method"], c["path"], c["status"]) for c in calls] == [
        ("mo", "POST", "/api/v1/models/3/promote", 200),
        ("mo", "POST", "/api/v1/models/training-runs", 200),
    ]
    assert all(str(c["at"]).endswith(("Z", "+00:00")) for c in calls)  # UTC


def test_table_changes_and_refusals_are_logged(start_proxy, fakes, urls) -> None:
    proxy = start_proxy([])
    good = table_yaml(urls, [{"name": "models", "match": {"path_prefix": "/api/v1/models"},
                              "mode": "passthrough", "primary": "monolith"}])  # fmt: skip
    with _as(proxy, "olga", "operator") as operator:
        applied = operator.post("/_admin/routes", content=good)
        assert applied.status_code == 200, applied.text
        refused = operator.post("/_admin/routes", content="upstreams: {}\nroutes: [{}]\n")
        assert refused.status_code == 422
        assert operator.post("/_admin/routes/revert").status_code == 200
    entries = _audit(proxy)
    kinds = [(e["kind"], e["actor"]) for e in entries]
    assert kinds[-3:] == [
        ("table-applied", "olga"),
        ("table-rejected", "olga"),
        ("table-applied", "olga"),
    ]
    applied_entry, rejected, reverted = entries[-3:]
    assert applied_entry["origin"] == "admin" and applied_entry["diff"]
    assert rejected["live_version"] == applied_entry["version"] and rejected["issues"]
    assert reverted["origin"] == "revert" and reverted["reverted_to"] is not None
    # ids grow; `after` pages on from the last one seen
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids)
    assert _audit(proxy, after=ids[-2]) == [reverted]


def test_only_the_operator_and_the_auditor_read_the_log(start_proxy, fakes) -> None:
    proxy = start_proxy([])
    for role, status in (("operator", 200), ("auditor", 200), ("scorer", 403), ("modeler", 403)):
        with _as(proxy, "x", role) as client:
            assert client.get("/_admin/audit").status_code == status, role
    assert httpx.get(proxy.url + "/_admin/audit", timeout=10).status_code == 401


def test_the_log_file_outlives_a_restart(start_proxy, fakes, urls, tmp_path: Path) -> None:
    log = tmp_path / "actions.jsonl"
    first = start_proxy([], audit_log=log)
    first_entries = _audit(first)
    assert first_entries and first_entries[0]["kind"] == "table-applied"  # the startup table
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["id"] for e in lines] == [e["id"] for e in first_entries]
    first.server.stop()

    with log.open("a") as out:
        out.write('{"id": 99, "cut short')  # a crash mid-line: skipped, the rest is read
    second = start_proxy([], audit_log=log)
    again = _audit(second)
    assert [e["id"] for e in again][: len(first_entries)] == [e["id"] for e in first_entries]
    assert again[-1]["id"] > first_entries[-1]["id"]  # ids go on after the restart
    assert yaml.safe_load(log.read_text().splitlines()[0])["kind"] == "table-applied"
