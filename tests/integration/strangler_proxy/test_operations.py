"""Operating a live proxy: hot reload under load, rejected tables, revert, history, auth."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration.strangler_proxy.conftest import AUDIENCE, make_token, table_yaml

ROUTE = {
    "name": "models",
    "mode": "passthrough",
    "primary": "monolith",
    "match": {"path_prefix": "/api/v1/models"},
}


def _with(urls, primary: str) -> str:
    return table_yaml(urls, [{**ROUTE, "primary": primary}])


async def _load(url: str, headers: dict[str, str], stop: asyncio.Event) -> list[int]:
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:

        async def worker() -> None:
            while not stop.is_set():
                statuses.append((await client.get("/api/v1/models")).status_code)

        await asyncio.gather(*(worker() for _ in range(16)))
    return statuses


def test_hot_reload_under_concurrent_load_fails_no_request(start_proxy, fakes, urls) -> None:
    proxy = start_proxy(table=_with(urls, "monolith"), watch_table=True, watch_debounce_ms=50)
    proxy.wait_for(proxy.app.watcher_ready.is_set)
    time.sleep(0.2)  # let the watcher's first scan finish before the first edit

    async def scenario() -> list[int]:
        stop = asyncio.Event()
        load = asyncio.create_task(_load(proxy.url, proxy.user, stop))
        async with httpx.AsyncClient(base_url=proxy.url, headers=proxy.operator) as admin:
            for i in range(6):  # admin applies, alternating upstreams
                table = _with(urls, "inference" if i % 2 == 0 else "spare")
                assert (await admin.post("/_admin/routes", content=table)).status_code == 200
                await asyncio.sleep(0.1)
            proxy.table_path.write_text(_with(urls, "monolith"))  # and a file edit
            for _ in range(100):
                await asyncio.sleep(0.05)
                live = (await admin.get("/_admin/routes")).json()
                if live["origin"] == "file":
                    break
            else:
                raise AssertionError("the file change was not applied")
        stop.set()
        return await load

    statuses = asyncio.run(scenario())
    assert len(statuses) > 100
    assert set(statuses) == {200}
    hits = {name: fake.hits["GET /api/v1/models"] for name, fake in fakes.items()}
    assert all(count > 0 for count in hits.values()), hits
    with proxy.admin() as admin:
        assert admin.get("/_admin/routes").json()["version"] == 8


def test_bad_table_is_rejected_and_the_live_one_keeps_serving(start_proxy, fakes, urls) -> None:
    proxy = start_proxy(table=_with(urls, "inference"))
    bad = table_yaml(
        urls,
        [
            {**ROUTE, "primary": "nowhere"},
            {**ROUTE, "mode": "canary", "candidate": "spare", "weight": 140},
        ],
    )
    with proxy.admin() as admin, proxy.client() as client:
        answer = admin.post("/_admin/routes", content=bad)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        messages = [e["field"] + " " + e["message"] for e in answer.json()["errors"]]
        assert any("weight" in m and "less than or equal to 100" in m for m in messages)
        assert "the live table keeps serving" in answer.json()["detail"]
        answer = admin.post("/_admin/routes", content=_with(urls, "nowhere"))
        assert answer.status_code == 422
        assert "unknown upstream 'nowhere'" in answer.json()["errors"][0]["message"]
        assert admin.get("/_admin/routes").json()["version"] == 1
        assert client.get("/api/v1/models").json()["upstream"] == "inference"
        assert "proxy_route_table_rejections_total" in client.get("/metrics").text


def test_bad_file_edit_is_rejected(start_proxy, fakes, urls) -> None:
    proxy = start_proxy(table=_with(urls, "inference"), watch_table=True, watch_debounce_ms=50)
    proxy.wait_for(proxy.app.watcher_ready.is_set)
    time.sleep(0.2)
    proxy.table_path.write_text("upstreams: {a: {url: 'ftp://x'}}\nroutes: [\n")
    proxy.wait_for(
        lambda: (
            'proxy_route_table_rejections_total{origin="file"} 1.0'
            in httpx.get(proxy.url + "/metrics").text
        )
    )
    with proxy.client() as client:
        assert client.get("/api/v1/models").json()["upstream"] == "inference"


def test_history_and_revert(start_proxy, fakes, urls) -> None:
    proxy = start_proxy(table=_with(urls, "monolith"))
    with proxy.admin() as admin, proxy.client() as client:
        assert admin.post("/_admin/routes/revert").status_code == 409
        applied = admin.post("/_admin/routes", content=_with(urls, "inference")).json()
        assert applied["version"] == 2 and applied["applied_by"] == "tester"
        assert applied["diff"] == ["~ route 'models': primary: 'monolith' -> 'inference'"]
        assert client.get("/api/v1/models").json()["upstream"] == "inference"
        reverted = admin.post("/_admin/routes/revert").json()
        assert reverted["version"] == 3 and reverted["reverted_to"] == 1
        assert client.get("/api/v1/models").json()["upstream"] == "monolith"
        history = admin.get("/_admin/routes/history").json()
        assert [(h["version"], h["origin"]) for h in history] == [
            (1, "startup"),
            (2, "admin"),
            (3, "revert"),
        ]


def test_jwt_401_and_403_as_problem_json(start_proxy, fakes) -> None:
    proxy = start_proxy([])
    expired = make_token(exp=int(time.time()) - 60)
    wrong_aud = make_token(aud="someone-else")
    forged = jwt.encode(
        {"sub": "x", "aud": AUDIENCE, "exp": int(time.time()) + 60},
        "another-secret-that-is-long-enough-0123",
        algorithm="HS256",
    )
    with httpx.Client(base_url=proxy.url) as anonymous:
        cases = {
            None: "bearer token is required",
            f"Bearer {expired}": "expired",
            f"Bearer {wrong_aud}": "audience",
            f"Bearer {forged}": "signature",
            "Basic dXNlcjpwYXNz": "Bearer <JWT>",
        }
        for header, why in cases.items():
            headers = {"Authorization": header} if header else {}
            for path in ("/api/v1/models", "/_admin/routes"):
                answer = anonymous.get(path, headers=headers)
                assert answer.status_code == 401, (header, path)
                assert answer.headers["content-type"] == "application/problem+json"
                assert why in answer.json()["detail"]
        user = {"Authorization": f"Bearer {make_token(['analyst'])}"}
        forbidden = anonymous.get("/_admin/routes", headers=user)
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"] == "application/problem+json"
        assert "operator" in forbidden.json()["detail"]
        assert anonymous.get("/api/v1/models", headers=user).status_code == 200
        assert fakes["monolith"].hits["GET /api/v1/models"] == 1  # only the valid one
        for open_path in ("/healthz", "/readyz", "/metrics"):
            assert anonymous.get(open_path).status_code == 200


def test_rs256_with_jwks_file(start_proxy, fakes, tmp_path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    proxy = start_proxy([], jwt_secret=None, jwks_file=jwks)
    claims = {"sub": "ops", "aud": AUDIENCE, "exp": int(time.time()) + 60, "roles": ["operator"]}
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
    hs = make_token(["operator"])  # HS256 is not accepted without a configured secret
    with httpx.Client(base_url=proxy.url) as client:
        assert (
            client.get("/_admin/routes", headers={"Authorization": f"Bearer {good}"}).status_code
            == 200
        )
        assert client.get("/x", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
        assert client.get("/x", headers={"Authorization": f"Bearer {hs}"}).status_code == 401


def test_auth_disabled_only_explicitly_and_loudly(start_proxy, fakes, caplog) -> None:
    with caplog.at_level("WARNING"):
        proxy = start_proxy([], jwt_secret=None, auth_disabled=True)
        with httpx.Client(base_url=proxy.url) as anonymous:
            assert anonymous.get("/x").status_code == 200
            assert anonymous.get("/_admin/routes").status_code == 200
    assert "AUTH IS DISABLED" in caplog.text


def test_admin_openapi_and_explain(start_proxy, fakes, urls) -> None:
    proxy = start_proxy(table=_with(urls, "inference"))
    with proxy.admin() as admin:
        doc = admin.get("/_admin/openapi.json").json()
        assert "/_admin/routes/revert" in doc["paths"]
        assert doc["info"]["title"] == "Strangler proxy admin API"
        explained = admin.get(
            "/_admin/explain", params={"method": "GET", "path": "/api/v1/models/1"}
        ).json()
        assert explained["route"] == "models" and explained["upstreams"] == {"primary": "inference"}
        missing = admin.get("/_admin/routes/nope/mismatches")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        unknown = admin.get("/_admin/nothing-here")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"


def test_settings_refuse_a_missing_secret() -> None:
    from pydantic import ValidationError

    from strangler_proxy.settings import Settings

    with pytest.raises(ValidationError, match="PROXY_JWT_SECRET"):
        Settings(jwt_secret=None, jwks_file=None, auth_disabled=False)
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(jwt_secret="change-me", environment="prod")
    with pytest.raises(ValidationError, match="refused"):
        Settings(auth_disabled=True, environment="prod")
