"""Phases 0-2 from a topology file the test writes: every deployable on a loopback address
of its own (127.0.0.2, 127.0.0.3, ...) and every service store on PostgreSQL, in fresh
databases made for this run. The kit reaches processes and stores only through the
topology, so nothing may land on 127.0.0.1 or in a SQLite file."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from contracts.client import ApiClient
from datagen import TransactionGenerator
from migration_playbook.context import KitContext
from migration_playbook.gates.result import Outcome
from migration_playbook.orchestration.engine import Engine
from migration_playbook.phases.loader import find_phase
from migration_playbook.settings import KitSettings
from migration_playbook.topology.edit import dump_topology
from tests.amqp_support import fresh_vhost
from tests.kit_stack import relocated
from tests.postgres_support import fresh_databases, libpq_url

pytestmark = pytest.mark.postgres

HOSTS = {
    "monolith": "127.0.0.2",
    "legacy-sync": "127.0.0.2",
    "proxy": "127.0.0.3",
    "mlflow": "127.0.0.4",
    "inference": "127.0.0.5",
    "ingestion": "127.0.0.6",
    "chaos": "127.0.0.7",
    "training": "127.0.0.8",
    "monitoring": "127.0.0.9",
}
STORES = ("monolith", "ingestion", "inference", "training", "monitoring")


@pytest.fixture(scope="module")
def elsewhere(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[KitContext, dict[str, str]]]:
    root = tmp_path_factory.mktemp("elsewhere")
    with fresh_databases("aikit_e2e", STORES) as stores, fresh_vhost("kit-elsewhere") as uri:
        topology = relocated(HOSTS, stores)
        settings = KitSettings.model_validate(
            {
                "workdir": root / "var",
                "reports_dir": root / "reports",
                "amqp_uri": uri,
                "topology_file": dump_topology(topology, root / "topology.yaml"),
            }
        )
        ctx = KitContext.create(settings)
        try:
            yield ctx, stores
        finally:
            Engine(ctx).down()


def _count(url: str, query: str) -> int:
    with psycopg.connect(libpq_url(url), connect_timeout=5) as connection:
        row = connection.execute(query).fetchone()
    return int(row[0]) if row else 0


def _answers_on(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def test_phases_0_to_2_run_on_other_addresses_with_their_stores_on_postgres(
    elsewhere: tuple[KitContext, dict[str, str]],
) -> None:
    ctx, stores = elsewhere
    engine = Engine(ctx)
    for number in (0, 1, 2):
        report = engine.apply(find_phase(number))
        assert report.outcome is Outcome.PASS, f"phase {number}: {report.reason}"

    # every HTTP process answers on its own address, and only there
    for name in ("monolith", "proxy", "inference", "ingestion", "legacy-sync"):
        spec = ctx.catalog[name]
        assert spec.host == HOSTS[name] and spec.port is not None
        assert _answers_on(HOSTS[name], spec.port), f"{name} does not answer on {spec.url}"
        assert not _answers_on("127.0.0.1", spec.port), f"{name} also listens on 127.0.0.1"
    assert httpx.get(f"{ctx.url('proxy')}/readyz", timeout=5).status_code == 200

    # the data went to PostgreSQL: the monolith's decisions, their backfilled copies, and
    # the transactions the ingestion service accepted, reconciled with the monolith's
    assert _count(stores["monolith"], "SELECT count(*) FROM predictions") > 0
    copied = "SELECT count(*) FROM prediction_audit WHERE origin = 'monolith'"
    assert _count(stores["inference"], copied) > 0
    assert _count(stores["inference"], "SELECT count(*) FROM prediction_audit") > _count(
        stores["inference"], copied
    )
    ingested = _count(stores["ingestion"], "SELECT count(*) FROM transactions")
    assert ingested > 0
    data = Path(ctx.settings.workdir) / "data"
    assert not data.exists() or not list(data.glob("*.db")), "a store fell back to SQLite"

    # and the public API through the proxy sees it: a transaction posted now is stored by
    # the ingestion service on PostgreSQL and reaches the monolith's database too
    transaction = TransactionGenerator(seed=991, id_prefix="elsewhere").generate(1)[0]
    with ApiClient(ctx.url("proxy"), headers=ctx.auth_headers, timeout=10) as api:
        api.ingest(transaction)
    found = (
        f"SELECT count(*) FROM transactions WHERE transaction_id = '{transaction.transaction_id}'"
    )
    assert _count(stores["ingestion"], found) == 1
    deadline = time.monotonic() + 30
    while _count(stores["monolith"], found) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _count(stores["monolith"], found) == 1, "the legacy sync did not bring it over"
