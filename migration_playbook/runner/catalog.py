"""Every process the kit can start, and how: module or command, port, environment, health.

Each deployable starts as ``python -m <package>`` configured only by environment variables
(DESIGN section 7); the catalog is the one place that knows which variables each needs.
A phase file names processes from this catalog.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from migration_playbook.settings import KitSettings


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process. ``ready_path`` None means: running is ready (no HTTP)."""

    name: str
    argv: tuple[str, ...]
    port: int | None
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str | None = "/readyz"
    description: str = ""
    #: A consumer-only replica of this process: started and stopped with it.
    replica_of: str | None = None
    #: Its name in the event table when it consumes events (its queues are retired when a
    #: phase decommissions it).
    consumer: str | None = None

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port is not None else None


def _module(name: str) -> tuple[str, ...]:
    return (sys.executable, "-m", name)


def process_catalog(settings: KitSettings) -> dict[str, ProcessSpec]:
    """All known processes for this workdir, by name."""
    work = settings.workdir.resolve()
    common = {
        "AMQP_URI": settings.amqp_uri,
        "MLFLOW_TRACKING_URI": settings.mlflow_url,
        "PYTHONUNBUFFERED": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    monolith_db = settings.sqlite_url("monolith")
    # The venv's own mlflow, next to this interpreter, before anything on PATH.
    beside = Path(sys.executable).with_name("mlflow")
    mlflow = str(beside) if beside.exists() else (shutil.which("mlflow") or "mlflow")
    specs = [
        ProcessSpec(
            "monolith",
            _module("legacy_monolith"),
            settings.monolith_port,
            {
                "DATABASE_URL": monolith_db,
                "MONOLITH_MODEL_DIR": str(work / "models" / "monolith"),
                "MONOLITH_WORKERS": str(settings.monolith_workers),
            },
            description="the legacy Flask monolith",
        ),
        ProcessSpec(
            "legacy-sync",
            _module("legacy_monolith.sync"),
            settings.legacy_sync_port,
            {"DATABASE_URL": monolith_db},
            description="keeps the monolith's DB complete from transactions_ingested",
            consumer="legacy_sync",
        ),
        ProcessSpec(
            "proxy",
            _module("strangler_proxy"),
            settings.proxy_port,
            {
                "PROXY_ROUTE_TABLE": str(work / "routes.yaml"),
                "PROXY_JWT_SECRET": settings.jwt_secret(),
                "PROXY_ENVIRONMENT": "dev",
            },
            description="the strangler proxy",
        ),
        ProcessSpec(
            "mlflow",
            (
                mlflow,
                "server",
                "--backend-store-uri",
                f"sqlite:///{work / 'mlflow' / 'mlflow.db'}",
                "--default-artifact-root",
                str(work / "mlflow" / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.mlflow_port),
                "--workers",
                "1",
            ),
            settings.mlflow_port,
            {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            ready_path="/health",
            description="MLflow tracking server and model registry",
        ),
        ProcessSpec(
            "ingestion",
            _module("extracted_services.ingestion"),
            settings.ingestion_port,
            {"DATABASE_URL": settings.sqlite_url("ingestion")},
            description="extracted ingestion service",
        ),
        ProcessSpec(
            "inference",
            _module("extracted_services.inference"),
            settings.inference_port,
            {
                "DATABASE_URL": settings.sqlite_url("inference"),
                "INFERENCE_WORKERS": str(settings.inference_workers),
            },
            description="extracted inference service",
        ),
        ProcessSpec(
            "chaos",
            _module("migration_playbook.tools.chaos"),
            settings.chaos_port,
            {
                "CHAOS_TARGET": settings.url(settings.inference_port),
                "CHAOS_ERROR_RATE": str(settings.chaos_error_rate),
            },
            description="a faulty candidate build: the inference service, failing on purpose",
        ),
        ProcessSpec(
            "training",
            _module("extracted_services.training"),
            settings.training_port,
            {
                "DATABASE_URL": settings.sqlite_url("training"),
                # A drift alarm may start a run a minute after the previous one (the
                # service's default is five): the demo's phases follow each other fast.
                "TRAINING_RETRAIN_COOLDOWN_S": "60",
            },
            description="training worker (nameko) and its HTTP front",
            consumer="training",
        ),
        ProcessSpec(
            "monitoring",
            _module("extracted_services.monitoring"),
            settings.monitoring_port,
            {"DATABASE_URL": settings.sqlite_url("monitoring")},
            description="monitoring worker (nameko) and its HTTP front",
            consumer="monitoring",
        ),
    ]
    specs += _consumer_replicas(specs, settings.replicas)
    return {
        spec.name: ProcessSpec(
            spec.name,
            spec.argv,
            spec.port,
            {**common, **spec.env},
            spec.ready_path,
            spec.description,
            spec.replica_of,
            spec.consumer,
        )
        for spec in specs
    }


#: How a consumer-only replica of each scalable consumer runs (the main process keeps
#: the HTTP front and the duties that must happen once: drift checks, training runs).
_CONSUME_ONLY: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "monitoring": (("consume",), {}),
    "training": (("consume",), {}),
    "legacy-sync": ((), {"PORT": "0", "MONOLITH_MIGRATE_ON_START": "false"}),
}


def _consumer_replicas(specs: list[ProcessSpec], replicas: dict[str, int]) -> list[ProcessSpec]:
    """``<name>-consumer-<i>`` for i in 2..N: more processes on the same queues (competing
    consumers), the same database; no port of their own."""
    by_name = {spec.name: spec for spec in specs}
    out = []
    for name, count in sorted(replicas.items()):
        main = by_name[name]
        extra_argv, extra_env = _CONSUME_ONLY[name]
        for index in range(2, count + 1):
            out.append(
                ProcessSpec(
                    f"{name}-consumer-{index}",
                    (*main.argv, *extra_argv),
                    None,
                    {**main.env, **extra_env},
                    ready_path=None,
                    description=f"consumer-only replica {index} of {name}",
                    replica_of=name,
                    consumer=main.consumer,
                )
            )
    return out


def with_replicas(catalog: dict[str, ProcessSpec], names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` plus the consumer replicas of those among them, in catalog order."""
    wanted = set(names)
    return tuple(
        name
        for name, spec in catalog.items()
        if name in wanted or (spec.replica_of is not None and spec.replica_of in wanted)
    )
