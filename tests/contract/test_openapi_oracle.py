"""The committed OpenAPI document as a test oracle: schemathesis against the real monolith.

Every operation of ``contracts/openapi/v1.yaml`` is exercised with generated inputs (the
examples, coverage, fuzzing and stateful phases) and every answer is checked: no 5xx, a
status the document declares, the declared content type and headers, and a body that
conforms to the declared schema. Any finding is a bug to fix in the monolith or the
models, never an exclusion.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from contracts.client import ApiClient
from contracts.openapi import OPERATIONS, V1_PATH
from datagen import DriftKnob, generate
from tests.contract.conftest import Monolith

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def trained_monolith(start_monolith: Callable[..., Monolith]) -> Monolith:
    """A monolith with a small labelled history and a serving model, so that the success
    answers of every operation (predictions included) are exercised, and the training runs
    schemathesis starts stay cheap (300 rows)."""
    monolith = start_monolith("oracle")
    with ApiClient(monolith.url) as client:
        client.ingest(generate(300, seed=7, drift=DriftKnob(fraud_rate=0.1), id_prefix="st-seed"))
        run = client.wait_for_training_run(client.start_training_run().run_id, timeout=120)
        assert run.status == "succeeded", run
    return monolith


def test_monolith_conforms_to_the_committed_openapi_document(
    trained_monolith: Monolith, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(V1_PATH),
        "--url",
        trained_monolith.url,
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
        "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    report = done.stdout[-20_000:] + done.stderr[-5_000:]
    assert done.returncode == 0, f"schemathesis found problems:\n{report}"
    cases = ET.parse(junit).getroot().iter("testcase")
    tested = {case.get("name") for case in cases}
    declared = {f"{op.method.upper()} {op.path}" for op in OPERATIONS}
    assert declared <= tested, f"operations not exercised: {sorted(declared - tested)}"
    assert "No issues found" in done.stdout, report
    assert trained_monolith.process.poll() is None, "the monolith died during the run"
