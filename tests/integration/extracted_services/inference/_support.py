"""Processes and models the inference integration tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migration_playbook.runner.mlflow_server import MlflowServer
from migration_playbook.runner.process import ManagedProcess, free_port

__all__ = ["MlflowServer", "start_service"]


def start_service(
    root: Path, name: str, tracking_uri: str, *, ready: bool = True, **env: Any
) -> ManagedProcess:
    """Start ``python -m extracted_services.inference`` on a free port with its own DB."""
    port = free_port()
    options = {
        "DATABASE_URL": f"sqlite:///{root / name / 'inference.db'}",
        "MLFLOW_TRACKING_URI": tracking_uri,
        "INFERENCE_WORK_DIR": str(root / name),
        "INFERENCE_LOG_JSON": "false",
        "INFERENCE_LOG_LEVEL": "INFO",
        "INFERENCE_MESSAGING_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    options.update({key: str(value) for key, value in env.items()})
    process = ManagedProcess(
        name=f"inference-{name}",
        module="extracted_services.inference",
        port=port,
        log_path=root / name / "service.log",
        env=options,
    )
    process.start()
    if ready:
        try:
            process.wait_ready(120)
        except Exception:
            process.stop()
            raise
    return process
