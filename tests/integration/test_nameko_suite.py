"""The nameko tests (``tests/integration/nameko``) need eventlet's monkey-patching, which must
never happen in the main pytest process: this test runs them in a pytest process of their
own, so a plain ``pytest tests`` runs them too and reports their failures here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_nameko_tests_pass_in_a_process_of_their_own() -> None:
    env = {**os.environ, "KIT_NAMEKO_TESTS": "1"}
    command = [sys.executable, "-m", "pytest", "-p", "no:pact", "-q", "tests/integration/nameko"]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    tail = "\n".join(output.splitlines()[-40:])
    assert result.returncode == 0, f"the nameko tests failed ({' '.join(command)}):\n{tail}"
    passed = re.search(r"(\d+) passed", output)
    assert passed and int(passed.group(1)) > 0, f"no nameko test ran:\n{tail}"
