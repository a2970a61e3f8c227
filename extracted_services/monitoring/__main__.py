"""``python -m extracted_services.monitoring [serve|consume]``: the worker and its HTTP
front, one process (``serve``), or a consumer-only replica (``consume``).

eventlet's monkey-patching must come before anything else imports ``socket`` or
``threading``: these two lines are the only place the service patches, and the boot
(``service_runtime.nameko_boot``) refuses to run without them.
"""

import eventlet

eventlet.monkey_patch()

from extracted_services.monitoring.service import MonitoringConsumer, MonitoringService  # noqa: E402
from extracted_services.monitoring.settings import Settings  # noqa: E402
from service_runtime import nameko_boot  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    nameko_boot.run(
        service="extracted_services.monitoring",
        description="The monitoring worker (nameko) with its HTTP front; `consume` runs a "
        "consumer-only replica that takes prediction_logged from the shared queue and "
        "nothing else.",
        modes={"serve": MonitoringService, "consume": MonitoringConsumer},
        settings=Settings,
        settings_key="MONITORING_SETTINGS",
        argv=argv,
    )


if __name__ == "__main__":
    main()
