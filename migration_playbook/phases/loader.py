"""Reading phase files, rendering their route tables, and linting them as a whole.

``kit phase lint`` reports every problem of every phase at once: schema errors (file and
field), unknown processes, route tables the proxy would refuse, steps that patch routes
or upstreams that do not exist, gates that point at unknown routes or scripts, pre-steps
that name no known action.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from migration_playbook.phases.models import (
    CanaryGate,
    GateSpec,
    LoadGate,
    Phase,
    ReconciliationGate,
    RoutePatch,
    ShadowGate,
)
from migration_playbook.topology import Capability, Topology
from strangler_proxy.errors import RouteTableError
from strangler_proxy.route_table.loader import parse_table

#: The bundled migration's phase files and load scenarios (the defaults of ``kit:``).
PHASES_DIR = Path(__file__).parent
LOADTESTS_DIR = Path(__file__).parent.parent / "loadtests"
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9-]*)\}")


class PhaseError(Exception):
    """A phase file that cannot be used; ``issues`` lists every reason."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues


def phases_dir(topology: Topology, override: Path | None = None) -> Path:
    """Where a topology's phase files are: ``override`` (``KIT_PHASES_DIR``), else the
    topology's ``kit.phases``, else the bundled phases."""
    if override is not None:
        return override
    return Path(topology.kit.phases) if topology.kit.phases else PHASES_DIR


def loadtests_dir(topology: Topology) -> Path:
    """Where the k6 scenarios of a topology's load gates are."""
    return Path(topology.kit.loadtests) if topology.kit.loadtests else LOADTESTS_DIR


def phase_files(folder: Path = PHASES_DIR) -> list[Path]:
    """The phase files of a folder, in phase order (``phase-0-baseline.yaml`` ...)."""
    return sorted(folder.glob("phase-*.yaml"), key=lambda p: int(p.name.split("-")[1]))


def load_phase(path: Path) -> Phase:
    """Parse and validate one phase file (schema only; see ``lint_phase``)."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise PhaseError([f"{path.name}: invalid YAML: {exc}"]) from exc
    try:
        return Phase.model_validate(raw)
    except ValidationError as exc:
        issues = [
            f"{path.name}: {'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise PhaseError(issues) from exc


def find_phase(number: int, folder: Path = PHASES_DIR) -> Phase:
    """The phase with this number; ``PhaseError`` lists the ones that exist."""
    for path in phase_files(folder):
        if int(path.name.split("-")[1]) == number:
            return load_phase(path)
    known = ", ".join(p.name for p in phase_files(folder)) or "none"
    raise PhaseError([f"no phase {number} in {folder} (found: {known})"])


def render_table(
    phase: Phase, urls: Mapping[str, str], patches: Iterable[RoutePatch] = ()
) -> dict[str, Any]:
    """The phase's route table with ``{process}`` URLs filled in and ``patches`` applied."""
    table = copy.deepcopy(phase.route_table)
    for upstream in table.get("upstreams", {}).values():
        if isinstance(upstream, dict) and isinstance(upstream.get("url"), str):
            upstream["url"] = _PLACEHOLDER.sub(
                lambda m: urls.get(m.group(1), m.group(0)), upstream["url"]
            )
    for patch in patches:
        route = next((r for r in table.get("routes", []) if r.get("name") == patch.route), None)
        if route is None:
            raise PhaseError([f"step patches unknown route {patch.route!r}"])
        route["mode"] = patch.mode
        for key in ("primary", "candidate", "read_fallback"):
            if getattr(patch, key) is not None:
                route[key] = getattr(patch, key)
        if patch.mode == "canary":
            route["weight"] = patch.weight if patch.weight is not None else 0
        else:
            route.pop("weight", None)
            route.pop("sticky_key", None)
            route.pop("rollback", None)
        if patch.mode == "passthrough":
            for key in ("candidate", "compare", "sample_percent"):
                route.pop(key, None)
        if patch.mode == "shadow":
            route.update(copy.deepcopy(phase.shadow_defaults))
        if patch.mode == "canary":
            route.pop("compare", None)
            route.pop("sample_percent", None)
            route.update(copy.deepcopy(phase.canary_defaults))
    return table


def table_text(table: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(table), sort_keys=False)


def _check_table(phase: Phase, source: str, table: Mapping[str, Any]) -> list[str]:
    try:
        parse_table(table_text(table), source)
    except RouteTableError as exc:
        return [str(issue) for issue in exc.issues]
    return []


def _gate_issues(
    where: str, gate: GateSpec, routes: set[str], processes: set[str], loadtests: Path
) -> list[str]:
    issues = []
    if isinstance(gate, ShadowGate | CanaryGate) and gate.route not in routes:
        issues.append(f"{where}: gate {gate.kind} names unknown route {gate.route!r}")
    if isinstance(gate, LoadGate):
        if not (loadtests / gate.script).is_file():
            issues.append(f"{where}: load script {gate.script!r} not in {loadtests}")
        if gate.target not in processes:
            issues.append(f"{where}: load target {gate.target!r} is not a process of the phase")
    for attr in ("target", "parity_with", "served_by"):
        value = getattr(gate, attr, None)
        if value is not None and value not in processes:
            issues.append(f"{where}: {attr} {value!r} is not a process of the phase")
    if gate.kind == "stopped":
        issues += [
            f"{where}: gate stopped names {name!r}, which the phase still runs"
            for name in getattr(gate, "processes", ())
            if name in processes
        ]
    for side in getattr(gate, "sides", ()):
        if side not in processes:
            issues.append(f"{where}: read-back side {side!r} is not a process of the phase")
    for target in getattr(gate, "targets", ()):
        if target not in processes:
            issues.append(f"{where}: contracts target {target!r} is not a process of the phase")
    return issues


def _dry_run_issues(phase: Phase, source: str, topology: Topology) -> list[str]:
    """A ``dry_run: true`` upstream promises the proxy that shadow copies write nothing; only
    a process that declares the ``dry_run`` capability in the topology keeps that promise."""
    issues = []
    for upstream_name, upstream in phase.route_table.get("upstreams", {}).items():
        if not isinstance(upstream, dict) or upstream.get("dry_run") is not True:
            continue
        for name in _PLACEHOLDER.findall(str(upstream.get("url", ""))):
            process = topology.processes.get(name)
            if process is not None and Capability.DRY_RUN not in process.capabilities:
                issues.append(
                    f"{source}: upstream {upstream_name!r} declares dry_run: true, but process "
                    f"{name!r} does not declare the dry_run capability in topology "
                    f"{topology.name} (it may write on a shadow copy)"
                )
    return issues


def lint_phase(
    phase: Phase, source: str, topology: Topology, known_actions: Iterable[str]
) -> list[str]:
    """Every semantic problem of one phase against the topology it runs on (empty when it
    is usable)."""
    loadtests = loadtests_dir(topology)
    known_processes = set(topology.processes)
    processes = set(phase.processes)
    issues = [
        f"{source}: unknown process {name!r} (known: {', '.join(sorted(known_processes))})"
        for name in phase.processes
        if name not in known_processes
    ]
    issues += [
        f"{source}: unknown pre-step action {step.action!r}"
        for step in phase.pre_steps
        if step.action not in set(known_actions)
    ]
    issues += [
        f"{source}: pre-step {step.action!r} needs {name!r}, not a process of the phase"
        for step in phase.pre_steps
        for name in step.needs
        if name not in processes
    ]
    urls = {name: p.url for name, p in topology.processes.items() if p.url and name in processes}
    base = render_table(phase, urls)
    issues += _check_table(phase, f"{source} (route_table)", base)
    routes = {str(r.get("name")) for r in base.get("routes", []) if isinstance(r, dict)}
    for upstream in base.get("upstreams", {}).values():
        for name in _PLACEHOLDER.findall(str(upstream.get("url", ""))):
            issues.append(f"{source}: upstream URL names {{{name}}}, not a process of the phase")
    issues += _dry_run_issues(phase, source, topology)
    gates = [*phase.gates, *(gate for step in phase.steps for gate in step.gates)]
    issues += [
        f"{source}: reconciliation gate names store {store!r}, not in topology {topology.name}"
        for gate in gates
        if isinstance(gate, ReconciliationGate)
        for store in (gate.source, gate.target)
        if store not in topology.stores
    ]
    for gate in phase.gates:
        issues += _gate_issues(f"{source} gates", gate, routes, processes, loadtests)
    earlier: tuple[RoutePatch, ...] = ()
    for step in phase.steps:
        where = f"{source} step {step.name!r}"
        earlier = (*earlier, *step.set)
        try:
            table = render_table(phase, urls, earlier)
        except PhaseError as exc:
            issues += [f"{where}: {issue}" for issue in exc.issues]
            continue
        issues += _check_table(phase, where, table)
        for gate in step.gates:
            issues += _gate_issues(where, gate, routes, processes, loadtests)
    return issues
