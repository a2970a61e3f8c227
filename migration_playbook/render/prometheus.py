"""Prometheus's scrape configuration for one phase: every process of it with a URL, and
RabbitMQ's own exporter (queue depths and dead letters per queue)."""

from __future__ import annotations

from typing import Any

from migration_playbook.phases.models import Phase
from migration_playbook.render.compose import phase_processes
from migration_playbook.topology import Topology

SCRAPE_INTERVAL = "5s"


def render_prometheus(topology: Topology, phase: Phase) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = []
    for name in phase_processes(topology, phase):
        process = topology.processes[name]
        if process.url is None or name == "mlflow":  # MLflow exports no /metrics by default
            continue
        jobs.append({"job_name": name, "static_configs": [{"targets": [f"{name}:{process.port}"]}]})
    jobs.append(
        {
            # rabbitmq_prometheus: per-object metrics carry the queue label
            "job_name": "rabbitmq",
            "metrics_path": "/metrics/per-object",
            "static_configs": [{"targets": ["rabbitmq:15692"]}],
        }
    )
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": jobs,
    }
