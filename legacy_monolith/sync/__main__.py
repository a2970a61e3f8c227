"""``python -m legacy_monolith.sync``: the coexistence consumer, configured by env vars
(``MONOLITH_*``, ``DATABASE_URL``, ``AMQP_URI``, ``PORT``); SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from legacy_monolith.sync.service import LegacySync
from legacy_monolith.sync.settings import SyncSettings
from service_runtime.logging import configure_logging


def main() -> None:
    settings = SyncSettings()
    configure_logging(settings.log_level, "legacy-sync", json_lines=settings.log_json)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    LegacySync(settings).run(stop)


if __name__ == "__main__":
    main()
