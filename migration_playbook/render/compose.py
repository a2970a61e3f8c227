"""A phase as a Docker Compose file: its processes from the topology, plus the platform.

Each topology process of the phase becomes a service built from its image
(``compose/docker/<image>/Dockerfile``), with the topology's command, arguments and
environment. The placeholders are filled in for containers on one Compose network: a
process answers at ``http://<its name>:<its topology port>``, listens on ``0.0.0.0``,
keeps its files under ``/var/lib/kit`` and its data in its own PostgreSQL database (named
after its store). Around them: RabbitMQ with the management plugin, PostgreSQL, MLflow,
Prometheus and Grafana with the kit's dashboard. Only the proxy, the UIs and the
dashboards are published on the host.

Secrets are referenced (``${KIT_JWT_SECRET}``, ...) and read by Compose from the
environment or a ``.env`` file; the rendered files never hold one.
"""

from __future__ import annotations

import re
from typing import Any

from migration_playbook.phases.models import Phase
from migration_playbook.render.images import dockerfile, image_of, image_ref
from migration_playbook.topology import ProcessDef, Topology
from migration_playbook.topology.models import PLACEHOLDER

#: Where a container keeps its files (the image's ``kit`` user's home).
CONTAINER_WORKDIR = "/var/lib/kit"
#: The images' virtual environment (``{bin}`` and ``{python}`` point into it).
CONTAINER_BIN = "/opt/venv/bin"
#: Where the images copy the kit's packages (their Dockerfiles' COPY lines).
CONTAINER_CODE = "/app"
#: The MLflow artifact folder, shared by the tracking server and every client: MLflow's
#: clients write artifacts to the path the server names, so all of them mount it.
ARTIFACTS = f"{CONTAINER_WORKDIR}/mlflow/artifacts"
#: The process the platform services are named for in the topology (it runs in every phase).
MLFLOW = "mlflow"

POSTGRES_USER = "kit"
RABBITMQ_USER = "kit"
JWT_SECRET = "${KIT_JWT_SECRET:?set KIT_JWT_SECRET (see compose/README.md)}"
POSTGRES_PASSWORD = "${KIT_POSTGRES_PASSWORD:?set KIT_POSTGRES_PASSWORD (see compose/README.md)}"
RABBITMQ_PASSWORD = "${KIT_RABBITMQ_PASSWORD:?set KIT_RABBITMQ_PASSWORD (see compose/README.md)}"
AMQP_URI = f"amqp://{RABBITMQ_USER}:{RABBITMQ_PASSWORD}@rabbitmq:5672/"

#: Third-party images, pinned; the only ones the files pull.
RABBITMQ_IMAGE = "rabbitmq:3.13-management"
POSTGRES_IMAGE = "postgres:16"
PROMETHEUS_IMAGE = "prom/prometheus:v2.53.0"
GRAFANA_IMAGE = "grafana/grafana:11.1.0"

#: Published on the host: what a workshop participant opens.
PUBLISHED = {"proxy", MLFLOW}


class RenderError(Exception):
    """The topology or phase cannot be rendered; ``issues`` lists every reason."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues


def store_url(store: str) -> str:
    """The container URL of a store: its own database on the Compose PostgreSQL."""
    return f"postgresql+psycopg://{POSTGRES_USER}:{POSTGRES_PASSWORD}@postgres:5432/{store}"


def container_url(name: str, process: ProcessDef) -> str:
    return f"http://{name}:{process.port}"


class ContainerResolver:
    """Fills in the topology's placeholders for containers on one Compose network."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology

    def value(self, text: str, own: str | None = None) -> str:
        def fill(match: re.Match[str]) -> str:
            kind, arg = match.group(1), match.group(2)
            if arg is not None:
                return self._named(kind, arg, match.group(0))
            return self._simple(kind, own, match.group(0))

        return PLACEHOLDER.sub(fill, text)

    def _named(self, kind: str, arg: str, raw: str) -> str:
        if kind == "url":
            target = self.topology.processes.get(arg)
            if target is None or target.url is None:
                raise RenderError([f"{raw}: no process {arg} with a url"])
            return container_url(arg, target)
        if kind == "store":
            if arg not in self.topology.stores:
                raise RenderError([f"{raw}: no store {arg}"])
            return store_url(arg)
        if kind == "secret" and arg == "jwt":
            return JWT_SECRET
        raise RenderError([f"unknown placeholder {raw}"])

    def _simple(self, kind: str, own: str | None, raw: str) -> str:
        if kind == "workdir":
            return CONTAINER_WORKDIR
        if kind == "bin":
            return CONTAINER_BIN
        if kind == "python":
            return f"{CONTAINER_BIN}/python"
        if kind == "code":
            return CONTAINER_CODE
        if kind == "amqp_uri":
            return AMQP_URI
        process = self.topology.processes.get(own) if own else None
        if process is None or process.url is None:
            raise RenderError([f"{raw} used outside a process with a url"])
        if kind == "host":
            return str(own)
        if kind == "port":
            return str(process.port)
        if kind == "bind":
            return "0.0.0.0"
        raise RenderError([f"unknown placeholder {raw}"])


def _command(process: ProcessDef, resolver: ContainerResolver, own: str) -> list[str]:
    head = ["python", "-m", process.module] if process.module else list(process.command or ())
    return [resolver.value(part, own) for part in [*head, *process.args]]


def _environment(
    name: str, process: ProcessDef, topology: Topology, resolver: ContainerResolver
) -> dict[str, str]:
    env = {**topology.env, **process.env}
    values = {key: resolver.value(value, name) for key, value in env.items()}
    values.update({variable: store_url(store) for variable, store in process.databases.items()})
    if process.url is not None:
        values.update({"HOST": "0.0.0.0", "PORT": str(process.port)})
    return dict(sorted(values.items()))


def _app_service(
    name: str, process: ProcessDef, topology: Topology, resolver: ContainerResolver, phase: Phase
) -> dict[str, Any]:
    image = image_of(process)
    if image is None:
        raise RenderError([f"process {name}: the kit has no container image for it"])
    service: dict[str, Any] = {
        "image": image_ref(image),
        "build": {"context": "..", "dockerfile": dockerfile(image)},
        "command": _command(process, resolver, name),
        "environment": _environment(name, process, topology, resolver),
    }
    volumes = [f"mlflow-artifacts:{ARTIFACTS}"]
    if name == "proxy":
        table = resolver.value(process.env.get("PROXY_ROUTE_TABLE", ""), name)
        if table:
            volumes.append(f"./routes/phase-{phase.phase}.yaml:{table}:ro")
    service["volumes"] = volumes
    needs = {"rabbitmq": "service_healthy"}
    if process.databases or name == MLFLOW:
        needs["postgres"] = "service_healthy"
    if name != MLFLOW:
        needs[MLFLOW] = "service_healthy"
    if name == "proxy":
        for other in phase.processes:
            if other != name and topology.processes[other].url is not None:
                needs[other] = "service_healthy"
    service["depends_on"] = {key: {"condition": value} for key, value in sorted(needs.items())}
    if name in PUBLISHED and process.port is not None:
        service["ports"] = [f"{process.port}:{process.port}"]
    service["restart"] = "unless-stopped"
    return service


def _replicas(
    name: str, process: ProcessDef, service: dict[str, Any], resolver: ContainerResolver
) -> dict[str, dict[str, Any]]:
    """Consumer-only copies (competing consumers): the replica recipe, no port."""
    if process.replicas <= 1 or process.replica is None:
        return {}
    recipe = process.replica
    out = {}
    for index in range(1, process.replicas):
        copy = {key: value for key, value in service.items() if key != "ports"}
        env = dict(service["environment"])
        env.update({key: resolver.value(value, name) for key, value in recipe.env.items()})
        copy["environment"] = dict(sorted(env.items()))
        copy["command"] = [*service["command"], *recipe.args]
        copy["healthcheck"] = {"disable": True}
        out[f"{name}-replica-{index}"] = copy
    return out


def _platform(topology: Topology, phase: Phase) -> dict[str, dict[str, Any]]:
    return {
        "rabbitmq": {
            "image": RABBITMQ_IMAGE,
            "environment": {
                "RABBITMQ_DEFAULT_USER": RABBITMQ_USER,
                "RABBITMQ_DEFAULT_PASS": RABBITMQ_PASSWORD,
            },
            "ports": ["15672:15672"],
            "healthcheck": {
                "test": ["CMD", "rabbitmq-diagnostics", "-q", "ping"],
                "interval": "10s",
                "timeout": "5s",
                "retries": 12,
            },
            "restart": "unless-stopped",
        },
        "postgres": {
            "image": POSTGRES_IMAGE,
            "environment": {"POSTGRES_USER": POSTGRES_USER, "POSTGRES_PASSWORD": POSTGRES_PASSWORD},
            "volumes": [
                "postgres-data:/var/lib/postgresql/data",
                "./postgres/init:/docker-entrypoint-initdb.d:ro",
            ],
            "healthcheck": {
                "test": ["CMD", "pg_isready", "-U", POSTGRES_USER, "-d", "postgres"],
                "interval": "5s",
                "timeout": "5s",
                "retries": 20,
            },
            "restart": "unless-stopped",
        },
        "prometheus": {
            "image": PROMETHEUS_IMAGE,
            "volumes": [f"./prometheus/phase-{phase.phase}.yml:/etc/prometheus/prometheus.yml:ro"],
            "ports": ["9090:9090"],
            "restart": "unless-stopped",
        },
        "grafana": {
            "image": GRAFANA_IMAGE,
            "environment": {
                "GF_AUTH_ANONYMOUS_ENABLED": "true",
                "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer",
                "GF_ANALYTICS_REPORTING_ENABLED": "false",
                "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
            },
            "volumes": [
                "./grafana/provisioning:/etc/grafana/provisioning:ro",
                "./grafana/dashboards:/var/lib/grafana/dashboards:ro",
            ],
            "ports": ["3000:3000"],
            "depends_on": {"prometheus": {"condition": "service_started"}},
            "restart": "unless-stopped",
        },
    }


def phase_processes(topology: Topology, phase: Phase) -> list[str]:
    """The topology processes a phase's Compose file runs: the phase's, and MLflow."""
    names = list(phase.processes)
    if MLFLOW in topology.processes and MLFLOW not in names:
        names.append(MLFLOW)
    unknown = [name for name in names if name not in topology.processes]
    if unknown:
        raise RenderError([f"phase {phase.phase}: unknown processes {', '.join(unknown)}"])
    return names


def render_compose(topology: Topology, phase: Phase) -> dict[str, Any]:
    """The Compose file of one phase, as data (``files`` writes it as YAML)."""
    resolver = ContainerResolver(topology)
    services: dict[str, dict[str, Any]] = _platform(topology, phase)
    issues: list[str] = []
    for name in phase_processes(topology, phase):
        process = topology.processes[name]
        try:
            service = _app_service(name, process, topology, resolver, phase)
        except RenderError as exc:
            issues += exc.issues
            continue
        services[name] = service
        services.update(_replicas(name, process, service, resolver))
    if issues:
        raise RenderError(issues)
    return {
        "services": services,
        "volumes": {"postgres-data": {}, "mlflow-artifacts": {}},
    }


def database_names(topology: Topology) -> list[str]:
    """Every store's database (one per store: the services never share one)."""
    return sorted(topology.stores)
