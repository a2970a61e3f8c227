"""One Dockerfile per deployable, and the pinned requirements it installs.

Every image has the same shape: a build stage that installs the image's requirements
(``requirements.py`` reads them from the code and pins them from the lock) into a virtual
environment, and a slim final stage with that environment, the kit folders the deployable
imports, a non-root user, a ``HEALTHCHECK`` and nothing configured but defaults (the
compose files set the environment). The base is a build argument: users build from
``python:3.11-slim``, machines without a registry from a local image with Python 3.11.
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_playbook.render.requirements import ImageContents, image_contents


@dataclass(frozen=True)
class ImageSpec:
    name: str
    description: str
    entry: str | None  # the kit module it runs; None: a third-party program
    port: int
    health: str


IMAGES = (
    ImageSpec("proxy", "the strangler proxy (aiohttp hot path, FastAPI admin API)",
              "strangler_proxy", 8000, "/healthz"),
    ImageSpec("monolith", "the legacy Flask monolith under gunicorn, torch from the CPU wheel",
              "legacy_monolith", 5000, "/healthz"),
    ImageSpec("legacy-sync", "the legacy sync, keeping the monolith's database complete from "
              "transactions_ingested", "legacy_monolith.sync", 5001, "/healthz"),
    ImageSpec("ingestion", "the extracted ingestion service (FastAPI, outbox to RabbitMQ)",
              "extracted_services.ingestion", 8101, "/healthz"),
    ImageSpec("inference", "the extracted inference service (FastAPI, ONNX Runtime), torch "
              "from the CPU wheel", "extracted_services.inference", 8102, "/healthz"),
    ImageSpec("training", "the training worker (nameko) and its HTTP front, torch from the "
              "CPU wheel", "extracted_services.training", 8103, "/healthz"),
    ImageSpec("monitoring", "the monitoring worker (nameko) and its HTTP front",
              "extracted_services.monitoring", 8104, "/healthz"),
    ImageSpec("mlflow", "the MLflow tracking server and model registry", None, 5000, "/health"),
)  # fmt: skip

_MLFLOW_CMD = (
    '["sh", "-c", "exec mlflow server --host \\"$HOST\\" --port \\"$PORT\\" '
    '--backend-store-uri \\"$MLFLOW_BACKEND_STORE_URI\\" '
    '--default-artifact-root \\"$MLFLOW_DEFAULT_ARTIFACT_ROOT\\" --workers 1"]'
)


def _copy(folder: str) -> str:
    return (
        f"COPY {folder} /app/{folder}"
        if folder.endswith(".py")
        else f"COPY {folder}/ /app/{folder}/"
    )


def dockerfile_text(spec: ImageSpec, contents: ImageContents) -> str:
    env = [f"PORT={spec.port}", "HOST=0.0.0.0"]
    if spec.entry is None:
        env += [
            "MLFLOW_BACKEND_STORE_URI=sqlite:////var/lib/kit/mlflow.db",
            "MLFLOW_DEFAULT_ARTIFACT_ROOT=/var/lib/kit/mlflow/artifacts",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false",
        ]
        cmd = _MLFLOW_CMD
    else:
        cmd = f'["python", "-m", "{spec.entry}"]'
    env += ["MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true"]
    healthcheck = (
        '["python", "-c", "import os, urllib.request; urllib.request.urlopen('
        f"'http://127.0.0.1:%s{spec.health}' % os.environ['PORT'], timeout=2)\"]"
    )
    copies = "\n".join(_copy(folder) for folder in contents.packages)
    env_lines = " \\\n    ".join(env)
    return f"""# {spec.name}: {spec.description}.
# Rendered by `kit render compose` (migration_playbook/render/dockerfiles.py); edit that.
# Build from the repository root:
#   docker build -f compose/docker/{spec.name}/Dockerfile -t ai-migration-kit/{spec.name} .
# Configuration comes only from the environment; nothing is baked in but defaults.
ARG BASE_IMAGE=python:3.11-slim

FROM ${{BASE_IMAGE}} AS build
# torch's CPU wheel comes from PyTorch's CPU index; wheels put in compose/docker/wheels/
# are used first, and PIP_NO_INDEX=1 builds from them alone (no index reachable).
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_NO_INDEX=0
COPY compose/docker/{spec.name}/requirements.txt /build/requirements.txt
COPY compose/docker/wheels/ /build/wheels/
RUN python -m venv /opt/venv \\
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \\
      --find-links /build/wheels -r /build/requirements.txt

FROM ${{BASE_IMAGE}}
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONPATH=/app \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    {env_lines}
RUN groupadd --system --gid 10001 kit \\
 && useradd --system --uid 10001 --gid kit --home-dir /var/lib/kit --create-home kit \\
 && mkdir -p /var/lib/kit/mlflow/artifacts \\
 && chown -R kit:kit /var/lib/kit
COPY --from=build /opt/venv /opt/venv
{copies}
# numeric, so that a runtime without the image's /etc/passwd still runs it as non-root
USER 10001:10001
WORKDIR /var/lib/kit
EXPOSE {spec.port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\
  CMD {healthcheck}
CMD {cmd}
"""


def requirements_text(spec: ImageSpec, contents: ImageContents) -> str:
    head = (
        f"# The {spec.name} image's packages, pinned as requirements.lock pins them.\n"
        "# Rendered by `kit render compose` from the imports of the code the image runs.\n"
    )
    return head + "".join(f"{line}\n" for line in contents.requirements)


def image_files() -> dict[str, str]:
    """Path (relative to the repository) -> text, for every image."""
    files = {}
    for spec in IMAGES:
        entry = f"{spec.entry}.__main__" if spec.entry else None
        contents = image_contents(spec.name, entry)
        files[f"compose/docker/{spec.name}/Dockerfile"] = dockerfile_text(spec, contents)
        files[f"compose/docker/{spec.name}/requirements.txt"] = requirements_text(spec, contents)
    return files
