"""Suite-wide configuration: markers by folder and keeping tools off the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_OFFLINE = ("PACT_DO_NOT_TRACK", "K6_NO_USAGE_REPORT", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")
for _name in _OFFLINE:
    os.environ.setdefault(_name, "true")

# Session fixtures of the inference service's tests (one MLflow server, one trained monolith).
pytest_plugins = ["tests.inference_fixtures", "tests.kit_stack"]

_TESTS = Path(__file__).parent
_MARKER_BY_FOLDER = {"unit", "integration", "contract", "e2e", "fault"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by the folder it lives in (tests/unit -> ``unit``, ...)."""
    for item in items:
        try:
            folder = Path(str(item.fspath)).relative_to(_TESTS).parts[0]
        except ValueError:
            continue
        if folder in _MARKER_BY_FOLDER:
            item.add_marker(getattr(pytest.mark, folder))
