"""Phase 0 in containers: the proxy's and the monolith's images, built from their
Dockerfiles (on the local base image, offline from downloaded wheels, torch the CPU
wheel), run with the environment and the route table ``compose/phase-0.yaml`` gives them.
The containers share the host's network on high ports (hostnames of the Compose network
become 127.0.0.1, ports move above 10000); the monolith keeps SQLite inside its
container instead of the Compose PostgreSQL. Then: both answer ``/healthz``, the image's
own ``HEALTHCHECK`` passes, the monolith is seeded and trained through its API, and a
prediction goes through the proxy with a JWT.

Slow (image builds): run it under the shared lock, e.g.
``flock /tmp/kit-heavy.lock .venv/bin/python -m pytest -m container``.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from contracts.client import ApiClient
from datagen import TransactionGenerator
from migration_playbook.auth import mint_token
from tests import podman_support as podman

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.container,
    pytest.mark.timeout(2400),
    pytest.mark.skipif(
        bool(podman.missing_tools()),
        reason=f"{', '.join(podman.missing_tools())} not installed: `make test` installs them "
        "(or `KIT_CONTAINER_TOOLS=1 make services`)",
    ),
]

REPO = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((REPO / "compose/phase-0.yaml").read_text())
SECRET = "container-test-secret-0123456789abcdef"
TAG = "localhost/ai-migration-kit/{}:test"
PREFIX = "kit-test-phase0-"


def _free_high_port() -> int:
    for port in range(18000 + int(time.time()) % 1000 * 7, 30000, 13):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port above 18000")


def _host_env(service: str, ports: dict[str, int], overrides: dict[str, str]) -> dict[str, str]:
    """The service's Compose environment, moved onto the host's network."""
    env = dict(COMPOSE["services"][service]["environment"])
    secrets = {
        "KIT_JWT_SECRET": SECRET,
        "KIT_RABBITMQ_PASSWORD": "unused",
        "KIT_POSTGRES_PASSWORD": "unused",
    }

    def fill(value: str) -> str:
        value = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: secrets[m.group(1)], value)
        for name, port in ports.items():
            value = re.sub(rf"//{name}:\d+", f"//127.0.0.1:{port}", value)
        return value

    env = {key: fill(str(value)) for key, value in env.items()}
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def build_seconds() -> dict[str, float]:
    podman.ensure_base_image()
    return {name: podman.build_image(name, TAG.format(name)) for name in ("proxy", "monolith")}


@pytest.fixture(scope="module")
def phase0(
    build_seconds: dict[str, float], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    ports = {"monolith": _free_high_port()}
    ports["proxy"] = _free_high_port() + 1
    ports["mlflow"] = 1  # phase 0 starts no MLflow: nothing may reach it
    tmp = tmp_path_factory.mktemp("phase0")
    table = tmp / "routes.yaml"
    text = (REPO / "compose/routes/phase-0.yaml").read_text()
    table.write_text(text.replace("http://monolith:5000", f"http://127.0.0.1:{ports['monolith']}"))
    table.chmod(0o644)
    started = time.monotonic()
    monolith_env = _host_env("monolith", ports, {
        "PORT": str(ports["monolith"]),
        "DATABASE_URL": "sqlite:////var/lib/kit/monolith.db",
        "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
    })  # fmt: skip
    proxy_env = _host_env("proxy", ports, {"PORT": str(ports["proxy"])})
    route_target = proxy_env["PROXY_ROUTE_TABLE"]
    try:
        podman.run_container(PREFIX + "monolith", TAG.format("monolith"), monolith_env, {})
        podman.run_container(
            PREFIX + "proxy", TAG.format("proxy"), proxy_env, {table: route_target}
        )
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items() if port > 1}
        podman.wait_http(urls["monolith"] + "/healthz", PREFIX + "monolith")
        podman.wait_http(urls["proxy"] + "/readyz", PREFIX + "proxy")
        urls["start_seconds"] = f"{time.monotonic() - started:.1f}"
        yield urls
    finally:
        for name in ("proxy", "monolith"):
            podman.stop_container(PREFIX + name)


def test_the_images_run_as_non_root_with_a_healthcheck(build_seconds: dict[str, float]) -> None:
    for name in ("proxy", "monolith"):
        user = podman.podman("image", "inspect", "-f", "{{.Config.User}}", TAG.format(name)).stdout
        assert user.strip() == "10001:10001"
        health = podman.podman(
            "image", "inspect", "-f", "{{.Config.Healthcheck.Test}}", TAG.format(name)
        ).stdout
        assert "/healthz" in health
    print(f"\nimage build seconds: {build_seconds}")  # noqa: T201 - the cost, in the log


def test_phase_0_answers_health_and_predictions_through_the_proxy(phase0: dict[str, str]) -> None:
    for name in ("monolith", "proxy"):
        assert httpx.get(phase0[name] + "/healthz", timeout=5).status_code == 200
    for name in ("monolith", "proxy"):  # the image's own HEALTHCHECK, run by podman
        result = podman.run_healthcheck(PREFIX + name, TAG.format(name))
        assert result.returncode == 0, result.stdout + result.stderr
    with ApiClient(phase0["monolith"], timeout=60) as monolith:
        monolith.ingest(TransactionGenerator(seed=1, id_prefix="history").generate(600))
        run = monolith.wait_for_training_run(monolith.start_training_run().run_id, timeout=600)
        assert run.metrics is not None, run.error
    token = mint_token(SECRET, roles=("scorer",))
    transaction = TransactionGenerator(seed=2, id_prefix="probe").generate(1)[0]
    with ApiClient(phase0["proxy"], headers={"Authorization": f"Bearer {token}"}) as proxy:
        prediction = proxy.score(transaction)
        assert str(prediction.model_version) == str(run.model_version)
    # The image carries the access policy the rendered file names: no role, no prediction.
    roleless = {"Authorization": f"Bearer {mint_token(SECRET, roles=())}"}
    refused = httpx.post(phase0["proxy"] + "/api/v1/predictions", json={}, headers=roleless)
    assert refused.status_code == 403, refused.text
    anonymous = httpx.post(phase0["proxy"] + "/api/v1/predictions", json={}, timeout=5)
    assert anonymous.status_code == 401
    print(f"\ncontainers ready after {phase0['start_seconds']} s")  # noqa: T201
