"""Roles at the edge, through a real proxy: every role against every operation of the
public API (``contracts/openapi/v1.yaml``) under its access policy
(``contracts/openapi/v1-access.yaml``), and the admin API's operator role.

The expected table is written out here, not derived from the policy file, so that a rule
changed by mistake fails the test."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from strangler_proxy.access import AccessControl, PolicyError, load_policy
from tests.integration.strangler_proxy.conftest import RunningProxy, make_token

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "contracts" / "openapi" / "v1-access.yaml"
OPENAPI = ROOT / "contracts" / "openapi" / "v1.yaml"
ROLES = ("scorer", "modeler", "auditor", "operator")

#: (method, path, roles that get through); every other role gets 403, no token 401.
EXPECTED = [
    ("POST", "/api/v1/transactions", {"scorer"}),
    ("POST", "/api/v1/predictions", {"scorer"}),
    ("GET", "/api/v1/predictions/p-1", {"scorer", "auditor"}),
    ("POST", "/api/v1/models/training-runs", {"modeler"}),
    ("GET", "/api/v1/models/training-runs/r-1", {"modeler"}),
    ("GET", "/api/v1/models", {"modeler", "auditor"}),
    ("GET", "/api/v1/models/current", {"scorer", "modeler", "auditor"}),
    ("POST", "/api/v1/models/3/promote", {"modeler"}),
    ("GET", "/api/v1/monitoring/drift", {"modeler", "auditor"}),
    # Not in the contract: refused for everyone (otherwise: deny).
    ("GET", "/api/v1/internal/anything", set()),
    ("DELETE", "/api/v1/models/3", set()),
    # The role check sees the canonical path: this is a promotion, not a prediction.
    ("POST", "/api/v1/predictions/../models/3/promote", {"modeler"}),
]


@pytest.fixture()
def proxy(start_proxy) -> RunningProxy:
    running: RunningProxy = start_proxy([], access_policy=POLICY)
    return running


def _send(proxy: RunningProxy, method: str, path: str, token: str | None) -> int:
    where = urlsplit(proxy.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "path", "allowed"), EXPECTED)
def test_each_role_against_each_operation(
    proxy: RunningProxy, fakes, method: str, path: str, allowed: set[str]
) -> None:
    assert _send(proxy, method, path, None) == 401
    for role in ROLES:
        status = _send(proxy, method, path, make_token([role]))
        if role in allowed:
            assert 200 <= status < 300, (role, method, path, status)
        else:
            assert status == 403, (role, method, path, status)
    # Several roles: one that fits is enough.
    assert _send(proxy, method, path, make_token(list(ROLES))) == (200 if allowed else 403)


def test_the_admin_api_takes_only_the_operator_role(proxy: RunningProxy, fakes) -> None:
    for role in ROLES:
        answer = httpx.get(
            proxy.url + "/_admin/routes",
            headers={"Authorization": f"Bearer {make_token([role])}"},
            timeout=10,
        )
        assert answer.status_code == (200 if role == "operator" else 403), role
    assert httpx.get(proxy.url + "/_admin/routes", timeout=10).status_code == 401


def test_a_refusal_is_a_problem_that_names_the_roles(proxy: RunningProxy, fakes) -> None:
    answer = httpx.post(
        proxy.url + "/api/v1/models/3/promote",
        headers={"Authorization": f"Bearer {make_token(['scorer'])}"},
        timeout=10,
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "'modeler'" in answer.json()["detail"]
    assert not fakes["monolith"].hits


def test_every_operation_of_the_contract_has_its_rule() -> None:
    access = AccessControl(load_policy(POLICY))
    spec = yaml.safe_load(OPENAPI.read_text())
    own = {"/healthz", "/readyz", "/metrics"}  # the proxy answers these itself
    for path, operations in spec["paths"].items():
        if path in own:
            continue
        concrete = path.replace("{prediction_id}", "p-1").replace("{run_id}", "r-1")
        concrete = concrete.replace("{version}", "3")
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                assert access.required(method.upper(), concrete), (method, path)


def test_a_bad_policy_file_stops_the_proxy_with_its_reason(tmp_path: Path, start_proxy) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("rules:\n  - match: {path: /x}\n    roles: []\n")
    with pytest.raises(PolicyError, match="roles"):
        start_proxy([], access_policy=bad)
