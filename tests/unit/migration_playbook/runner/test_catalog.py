"""Consumer replicas in the process catalog: named, started and stopped with their main."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from migration_playbook.runner.catalog import ProcessSpec, process_catalog, with_replicas
from migration_playbook.topology import Resolver, Topology, load_topology
from migration_playbook.topology.edit import with_changes


def _catalog(tmp_path: Path, topology: Topology | None = None) -> dict[str, ProcessSpec]:
    topology = topology if topology is not None else load_topology()
    resolver = Resolver(topology, tmp_path, "amqp://guest:guest@127.0.0.1:5672/", lambda _n: "s")
    return process_catalog(resolver)


def test_replicas_are_consumer_only_processes_without_a_port(tmp_path: Path) -> None:
    topology = with_changes(load_topology(), replicas={"monitoring": 3, "legacy-sync": 2})
    catalog = _catalog(tmp_path, topology)
    extra = [spec for spec in catalog.values() if spec.replica_of is not None]
    assert [s.name for s in extra] == [
        "legacy-sync-consumer-2",
        "monitoring-consumer-2",
        "monitoring-consumer-3",
    ]
    monitoring = catalog["monitoring-consumer-2"]
    assert monitoring.argv[-2:] == ("extracted_services.monitoring", "consume")
    assert monitoring.port is None and monitoring.ready_path is None
    assert monitoring.env["DATABASE_URL"] == catalog["monitoring"].env["DATABASE_URL"]
    sync = catalog["legacy-sync-consumer-2"]
    assert sync.env["PORT"] == "0" and sync.env["MONOLITH_MIGRATE_ON_START"] == "false"
    assert with_replicas(catalog, ("proxy", "monitoring")) == (
        "proxy",
        "monitoring",
        "monitoring-consumer-2",
        "monitoring-consumer-3",
    )
    assert "legacy-sync-consumer-2" not in with_replicas(catalog, ("monitoring",))


def test_only_the_scalable_consumers_can_be_replicated(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="needs a replica recipe"):
        with_changes(load_topology(), replicas={"proxy": 2})
    with pytest.raises(ValidationError, match="less than or equal to 8"):
        with_changes(load_topology(), replicas={"training": 9})
    assert not [s for s in _catalog(tmp_path).values() if s.replica_of]
