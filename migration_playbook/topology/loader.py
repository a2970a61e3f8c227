"""Reading a topology file, filling in its placeholders, and linting it.

``load_topology`` reports every schema problem at once (file and field); ``lint_topology``
adds what the schema cannot see: placeholders that name no process, store or secret.
``Resolver`` fills the placeholders in when the kit runs the topology.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from migration_playbook.topology.hooks import HookError, load_hook
from migration_playbook.topology.models import (
    PLACEHOLDER,
    SECRETS,
    SIMPLE_PLACEHOLDERS,
    ProcessDef,
    Topology,
)

#: The bundled migration's topology: the default when ``KIT_TOPOLOGY`` is not set.
BUNDLED_TOPOLOGY = Path(__file__).with_name("bundled.yaml")
#: The folder that holds the kit's packages (``{code}``).
CODE_ROOT = Path(__file__).resolve().parents[2]


class TopologyError(Exception):
    """A topology file that cannot be used; ``issues`` lists every reason."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues


def load_topology(path: Path = BUNDLED_TOPOLOGY) -> Topology:
    """Parse and validate a topology file (schema; see ``lint_topology`` for the rest)."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise TopologyError([f"{path}: cannot read the topology: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise TopologyError([f"{path.name}: invalid YAML: {exc}"]) from exc
    try:
        topology = Topology.model_validate(raw)
    except ValidationError as exc:
        issues = [
            f"{path.name}: {'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise TopologyError(issues) from exc
    # The team's files sit beside its topology: relative paths are read from its folder.
    return topology.model_copy(update={"kit": topology.kit.relative_to(path.parent)})


def _values(process: ProcessDef) -> list[tuple[str, str]]:
    out = [(f"env.{key}", value) for key, value in process.env.items()]
    out += [(f"command[{i}]", value) for i, value in enumerate(process.command or ())]
    out += [(f"args[{i}]", value) for i, value in enumerate(process.args)]
    if process.replica is not None:
        out += [(f"replica.env.{key}", value) for key, value in process.replica.env.items()]
        out += [(f"replica.args[{i}]", value) for i, value in enumerate(process.replica.args)]
    return out


def _placeholder_issue(
    topology: Topology, kind: str, arg: str | None, own: ProcessDef | None
) -> str:
    if arg is None:
        if kind not in SIMPLE_PLACEHOLDERS:
            return f"unknown placeholder {{{kind}}}"
        if kind in ("host", "port", "bind") and (own is None or own.url is None):
            return f"{{{kind}}} needs a process with a url"
        return ""
    if kind == "url":
        target = topology.processes.get(arg)
        if target is None:
            return f"{{url:{arg}}} names no process"
        if target.url is None:
            return f"{{url:{arg}}}: process {arg} has no url"
        return ""
    if kind == "store":
        return "" if arg in topology.stores else f"{{store:{arg}}} names no store"
    if kind == "secret":
        return "" if arg in SECRETS else f"{{secret:{arg}}}: known secrets: {', '.join(SECRETS)}"
    return f"unknown placeholder {{{kind}:{arg}}}"


def lint_topology(topology: Topology, source: str) -> list[str]:
    """Every problem the schema cannot see (empty when the topology is usable)."""
    issues = []
    places: list[tuple[str, str, ProcessDef | None]] = [
        (f"env.{key}", value, None) for key, value in topology.env.items()
    ]
    places += [(f"stores.{name}", url, None) for name, url in topology.stores.items()]
    for name, process in topology.processes.items():
        places += [
            (f"processes.{name}.{where}", value, process) for where, value in _values(process)
        ]
    for where, value, own in places:
        for match in PLACEHOLDER.finditer(value):
            issue = _placeholder_issue(topology, match.group(1), match.group(2), own)
            if issue:
                issues.append(f"{source}: {where}: {issue}")
    # A top-level env value is resolved per process: {host} there means each one's own.
    return issues + _kit_issues(topology, source)


def _kit_issues(topology: Topology, source: str) -> list[str]:
    """The files and the code ``kit:`` names must exist."""
    kit = topology.kit
    issues = [
        f"{source}: kit.{key}: {folder} is not a folder"
        for key, folder in (("phases", kit.phases), ("loadtests", kit.loadtests))
        if folder is not None and not Path(folder).is_dir()
    ]
    issues += [
        f"{source}: kit.pacts: {path} is not a file"
        for path in kit.pacts
        if not Path(path).is_file()
    ]
    hooks = {"provider_states": kit.provider_states, "traffic": kit.traffic}
    hooks |= {f"actions.{name}": hook for name, hook in kit.actions.items()}
    for key, hook in hooks.items():
        if hook is None:
            continue
        try:
            load_hook(hook)
        except HookError as exc:
            issues.append(f"{source}: kit.{key}: {exc}")
    return issues


@dataclass(frozen=True)
class Resolver:
    """Fills in a topology's placeholders for one kit workdir."""

    topology: Topology
    workdir: Path
    amqp_uri: str
    secret: Callable[[str], str]

    def value(self, text: str, own: ProcessDef | None = None) -> str:
        def fill(match: re.Match[str]) -> str:
            kind, arg = match.group(1), match.group(2)
            if arg is None:
                return self._simple(kind, own)
            if kind == "url":
                url = self.topology.processes[arg].url
                if url is None:
                    raise TopologyError([f"{{url:{arg}}}: process {arg} has no url"])
                return url
            if kind == "store":
                return self.value(self.topology.stores[arg])
            if kind == "secret":
                return self.secret(arg)
            raise TopologyError([f"unknown placeholder {match.group(0)}"])

        return PLACEHOLDER.sub(fill, text)

    def _simple(self, kind: str, own: ProcessDef | None) -> str:
        if kind == "workdir":
            return str(self.workdir.resolve())
        if kind == "bin":
            return str(Path(sys.executable).parent)
        if kind == "python":
            return sys.executable
        if kind == "code":
            return str(CODE_ROOT)
        if kind == "amqp_uri":
            return self.amqp_uri
        if own is None or own.url is None:
            raise TopologyError([f"{{{kind}}} used outside a process with a url"])
        if kind == "host":
            return str(own.host)
        if kind == "port":
            return str(own.port)
        if kind == "bind":
            return str(own.bind or own.host)
        raise TopologyError([f"unknown placeholder {{{kind}}}"])

    def env(self, values: Mapping[str, str], own: ProcessDef | None = None) -> dict[str, str]:
        return {key: self.value(value, own) for key, value in values.items()}

    def store_url(self, name: str) -> str:
        try:
            return self.value(self.topology.stores[name])
        except KeyError:
            known = ", ".join(self.topology.stores) or "none"
            raise TopologyError([f"no store {name!r} in the topology (known: {known})"]) from None
