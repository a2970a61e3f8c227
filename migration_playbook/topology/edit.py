"""Changing a topology in code: other addresses, other stores, more replicas, more env.

Tests and benchmarks use it to run the bundled topology on free ports, on other loopback
addresses or on PostgreSQL; ``dump_topology`` writes the result as a file the kit reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from migration_playbook.topology.models import PLACEHOLDER, Topology


def with_changes(
    topology: Topology,
    *,
    urls: Mapping[str, str] | None = None,
    stores: Mapping[str, str] | None = None,
    env: Mapping[str, Mapping[str, str]] | None = None,
    replicas: Mapping[str, int] | None = None,
) -> Topology:
    """A copy with some processes' URLs, env or replicas and some stores' URLs changed.

    The copy is validated again, so a change that breaks the topology raises here.
    """
    raw = topology.model_dump(mode="json")
    for name, url in (urls or {}).items():
        raw["processes"][_known(raw, name)]["url"] = url
    for name, count in (replicas or {}).items():
        raw["processes"][_known(raw, name)]["replicas"] = count
    for name, values in (env or {}).items():
        raw["processes"][_known(raw, name)]["env"].update(values)
    for name, url in (stores or {}).items():
        if name not in raw["stores"]:
            raise KeyError(f"no store {name!r} in the topology")
        raw["stores"][name] = url
    return Topology.model_validate(raw)


def _known(raw: dict[str, dict[str, dict[str, object]]], name: str) -> str:
    if name not in raw["processes"]:
        raise KeyError(f"no process {name!r} in the topology")
    return name


def dump_topology(topology: Topology, path: Path) -> Path:
    """Write ``topology`` as a YAML file the kit reads (``KIT_TOPOLOGY``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(topology.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    )
    return path


def as_external(topology: Topology, names: tuple[str, ...] | None = None) -> Topology:
    """The same processes (``names``, default all) as platform ``external``: URLs, health
    paths and stores only, nothing to run. What a team writes for a deployment the kit did
    not start, where the URLs are what the kit reaches (a cluster's ingress or Services)."""
    raw = topology.model_dump(mode="json")
    keep = ("description", "url", "bind", "health", "databases", "env", "consumer")
    kept = set(raw["processes"] if names is None else names)

    def _known_urls(env: dict[str, str]) -> dict[str, str]:
        # an entry naming the URL of a process left out would not resolve
        return {
            key: value
            for key, value in env.items()
            if all(arg in kept for kind, arg in PLACEHOLDER.findall(value) if kind == "url")
        }

    raw["platform"] = "external"
    raw["env"] = _known_urls(raw["env"])
    raw["processes"] = {
        name: {key: process[key] for key in keep if key in process}
        | {"env": _known_urls(process["env"])}
        for name, process in raw["processes"].items()
        if name in kept
    }
    return Topology.model_validate(raw)
