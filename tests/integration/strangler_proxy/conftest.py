"""Fixtures: real upstreams and a real proxy, each served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml

from strangler_proxy.app import ProxyApp, create_app
from strangler_proxy.settings import Settings
from tests.integration.strangler_proxy.servers import FakeUpstream, ServerThread

SECRET = "integration-test-secret-0123456789abcdef"
AUDIENCE = "ai-migration-kit"


def make_token(roles: list[str] | None = None, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "sub": "tester",
        "aud": AUDIENCE,
        "exp": int(time.time()) + 600,
        "roles": roles or [],
    }
    claims.update(overrides)
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.fixture(scope="session")
def upstreams() -> Iterator[dict[str, tuple[FakeUpstream, ServerThread]]]:
    servers = {}
    for name in ("monolith", "inference", "spare"):
        app = FakeUpstream(name)
        servers[name] = (app, ServerThread(app).start())
    yield servers
    for _app, server in servers.values():
        server.stop()


@pytest.fixture()
def fakes(upstreams: dict[str, tuple[FakeUpstream, ServerThread]]) -> dict[str, FakeUpstream]:
    for app, _server in upstreams.values():
        app.reset()
    return {name: app for name, (app, _server) in upstreams.items()}


@pytest.fixture()
def urls(upstreams: dict[str, tuple[FakeUpstream, ServerThread]]) -> dict[str, str]:
    return {name: server.url for name, (_app, server) in upstreams.items()}


def table_yaml(
    urls: dict[str, str],
    routes: list[dict[str, Any]],
    upstream_overrides: dict[str, dict[str, Any]] | None = None,
    default: str = "monolith",
) -> str:
    ups: dict[str, Any] = {name: {"url": url, "timeout_s": 2.0} for name, url in urls.items()}
    for name, extra in (upstream_overrides or {}).items():
        ups.setdefault(name, {}).update(extra)
    return yaml.safe_dump(
        {"upstreams": ups, "routes": routes, "default_upstream": default}, sort_keys=False
    )


class RunningProxy:
    def __init__(self, app: ProxyApp, server: ServerThread, table_path: Path) -> None:
        self.app = app
        self.server = server
        self.url = server.url
        self.table_path = table_path
        self.user = {"Authorization": f"Bearer {make_token()}"}
        self.operator = {"Authorization": f"Bearer {make_token(['operator'])}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.user, timeout=10, **kwargs)

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.operator, timeout=10)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            time.sleep(0.02)


@pytest.fixture()
def start_proxy(tmp_path: Path, urls: dict[str, str]) -> Iterator[Callable[..., RunningProxy]]:
    started: list[RunningProxy] = []

    def _start(
        routes: list[dict[str, Any]] | None = None,
        table: str | None = None,
        upstream_overrides: dict[str, dict[str, Any]] | None = None,
        **settings: Any,
    ) -> RunningProxy:
        path = tmp_path / "routes.yaml"
        path.write_text(
            table if table is not None else table_yaml(urls, routes or [], upstream_overrides)
        )
        options: dict[str, Any] = {
            "jwt_secret": SECRET,
            "route_table": path,
            "watch_table": False,
            "environment": "test",
        }
        options.update(settings)
        app = create_app(Settings(**options))
        proxy = RunningProxy(app, ServerThread(app).start(), path)
        started.append(proxy)
        return proxy

    yield _start
    for proxy in started:
        proxy.server.stop()
