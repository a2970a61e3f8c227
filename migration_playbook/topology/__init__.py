"""The topology: where every process of a migration runs and how to reach it, as data."""

from migration_playbook.topology.hooks import HookError, load_hook
from migration_playbook.topology.loader import (
    BUNDLED_TOPOLOGY,
    Resolver,
    TopologyError,
    lint_topology,
    load_topology,
)
from migration_playbook.topology.models import (
    Capability,
    KitConfig,
    Platform,
    ProcessDef,
    ReplicaRecipe,
    Topology,
)

__all__ = [
    "BUNDLED_TOPOLOGY",
    "Capability",
    "HookError",
    "KitConfig",
    "Platform",
    "ProcessDef",
    "ReplicaRecipe",
    "Resolver",
    "Topology",
    "TopologyError",
    "lint_topology",
    "load_hook",
    "load_topology",
]
