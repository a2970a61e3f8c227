"""Which container image runs which topology process (``compose/docker/<image>/Dockerfile``).

A process is matched by its module (``python -m MODULE``) or, for a command, by the
program it runs. A process with no image (the chaos candidate, a team's own addition)
cannot be rendered: the renderer says so instead of guessing.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from migration_playbook.topology import ProcessDef

#: Image name -> the module it runs; every one has a Dockerfile under compose/docker/.
MODULE_IMAGES = {
    "legacy_monolith": "monolith",
    "legacy_monolith.sync": "legacy-sync",
    "strangler_proxy": "proxy",
    "extracted_services.ingestion": "ingestion",
    "extracted_services.inference": "inference",
    "extracted_services.training": "training",
    "extracted_services.monitoring": "monitoring",
}
#: Program name (the command's first word) -> image.
COMMAND_IMAGES = {"mlflow": "mlflow"}
#: The images' tag: the kit's version (pyproject.toml).
IMAGE_PREFIX = "ai-migration-kit"
IMAGE_TAG = "0.1.0"


def image_of(process: ProcessDef) -> str | None:
    """The image that runs ``process``, or None when the kit ships none for it."""
    if process.module is not None:
        return MODULE_IMAGES.get(process.module)
    if process.command:
        return COMMAND_IMAGES.get(PurePosixPath(process.command[0]).name)
    return None


def image_ref(image: str) -> str:
    return f"{IMAGE_PREFIX}/{image}:{IMAGE_TAG}"


def dockerfile(image: str) -> str:
    """The Dockerfile's path relative to the repository root (the build context)."""
    return f"compose/docker/{image}/Dockerfile"
