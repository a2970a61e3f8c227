"""Platform rules of a topology: local runs each process, external runs none."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from migration_playbook.topology import Platform, Topology, load_topology
from migration_playbook.topology.edit import as_external


def _topology(platform: str, **process: object) -> Topology:
    return Topology.model_validate(
        {"name": "t", "platform": platform, "processes": {"api": {"url": "http://a:1", **process}}}
    )


def test_external_takes_urls_only() -> None:
    topology = _topology("external")
    assert topology.platform is Platform.EXTERNAL
    with pytest.raises(ValidationError, match="platform external runs nothing"):
        _topology("external", module="legacy_monolith")
    with pytest.raises(ValidationError, match="no consumer-only replicas"):
        _topology("external", replicas=2, replica={}, consumer="c")


def test_local_still_needs_a_way_to_run_each_process() -> None:
    with pytest.raises(ValidationError, match="give module or command"):
        _topology("local")
    with pytest.raises(ValidationError, match="not both"):
        _topology("local", module="m", command=["x"])
    assert _topology("local", module="m").processes["api"].module == "m"


def test_as_external_keeps_urls_stores_and_health() -> None:
    bundled = load_topology()
    external = as_external(bundled, ("monolith", "proxy", "mlflow"))
    assert external.platform is Platform.EXTERNAL
    assert set(external.processes) == {"monolith", "proxy", "mlflow"}
    assert external.processes["mlflow"].health == "/health"
    assert external.processes["proxy"].url == bundled.processes["proxy"].url
    assert external.processes["monolith"].module is None
    assert external.stores == bundled.stores
    # nothing names a process left out (its URL would not resolve)
    small = as_external(bundled, ("monolith", "proxy"))
    assert "MLFLOW_TRACKING_URI" not in small.env
    assert small.env["AMQP_URI"] == bundled.env["AMQP_URI"]
