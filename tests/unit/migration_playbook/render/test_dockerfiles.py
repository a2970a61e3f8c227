"""The Dockerfiles pass hadolint and keep the images' rules; their requirements cover the
code they run and are pinned as the lock pins them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from migration_playbook.render.dockerfiles import IMAGES
from migration_playbook.render.images import MODULE_IMAGES
from migration_playbook.render.requirements import import_graph

REPO = Path(__file__).resolve().parents[4]
HADOLINT = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
NAMES = [spec.name for spec in IMAGES]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


@pytest.mark.parametrize("image", NAMES)
def test_hadolint_passes(image: str) -> None:
    result = subprocess.run(
        [HADOLINT, "--failure-threshold", "info", str(REPO / f"compose/docker/{image}/Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install flask\nCMD python app.py\n")
    result = subprocess.run([HADOLINT, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3006" in result.stdout and "DL3025" in result.stdout


@pytest.mark.parametrize("image", NAMES)
def test_every_image_keeps_the_rules(image: str) -> None:
    text = (REPO / f"compose/docker/{image}/Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim" in text
    assert re.search(r"^USER 10001:10001$", text, re.M), "runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*/health", text, re.M)
    assert "download.pytorch.org/whl/cpu" in text, "torch from the CPU index"
    final = text.split("FROM ${BASE_IMAGE}\n", 1)[1]
    assert "requirements.txt" not in final and "wheels" not in final, "build files stay behind"


@pytest.mark.parametrize("image", NAMES)
def test_requirements_are_pinned_as_the_lock_pins_them(image: str) -> None:
    pins = _lock()
    lines = [
        line
        for line in (REPO / f"compose/docker/{image}/requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines
    for line in lines:
        name, version = line.split("==")
        assert pins[re.sub(r"[-_.]+", "-", name).lower()] == version, line


def test_torch_is_pinned_exactly_where_it_is_needed() -> None:
    needs = {"monolith", "legacy-sync", "inference", "training", "monitoring"}
    for image in NAMES:
        text = (REPO / f"compose/docker/{image}/requirements.txt").read_text()
        assert ("torch==2.13.0\n" in text) == (image in needs), image


def test_every_module_image_has_a_dockerfile() -> None:
    assert {spec.entry for spec in IMAGES if spec.entry} == set(MODULE_IMAGES)


def test_the_import_graph_follows_lazy_imports_and_apps_named_by_string() -> None:
    modules, external = import_graph("extracted_services.inference.__main__")
    assert "extracted_services.inference.app" in modules  # "…app:serve_app" for uvicorn
    assert {"onnxruntime", "mlflow", "torch"} <= external  # imported inside functions
    assert not any(m.startswith("extracted_services.training") for m in modules)
