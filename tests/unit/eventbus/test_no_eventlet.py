"""Only nameko workers may load nameko/eventlet: the shared layer and the non-nameko
deployables that use it must not (eventlet's patching breaks asyncio and torch)."""

from __future__ import annotations

import subprocess
import sys


def test_messaging_layer_and_its_users_never_import_nameko_or_eventlet() -> None:
    code = (
        "import sys\n"
        "import eventbus, extracted_services.ingestion.app\n"
        "import legacy_monolith.sync.service, migration_playbook.cli.events\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('nameko', 'eventlet'))\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    # ... and the nameko module does import nameko: the check above can fail.
    positive = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, eventbus.nameko_handler; assert 'eventlet' in sys.modules",
        ],
        capture_output=True,
        text=True,
    )
    assert positive.returncode == 0, positive.stderr
