"""``python -m extracted_services.training [serve|consume]``: the worker and its HTTP front,
one process (``serve``), or a consumer-only replica (``consume``).

eventlet's monkey-patching must come before anything else imports ``socket`` or
``threading``: these two lines are the only place the service patches, and the boot
(``service_runtime.nameko_boot``) refuses to run without them.
"""

import eventlet

eventlet.monkey_patch()

from extracted_services.training.service import TrainingConsumer, TrainingService  # noqa: E402
from extracted_services.training.settings import Settings  # noqa: E402
from service_runtime import nameko_boot  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    nameko_boot.run(
        service="extracted_services.training",
        description="The training worker (nameko) with its HTTP front; `consume` runs a "
        "consumer-only replica that takes transactions_ingested from the shared queue and "
        "nothing else.",
        modes={"serve": TrainingService, "consume": TrainingConsumer},
        settings=Settings,
        settings_key="TRAINING_SETTINGS",
        argv=argv,
    )


if __name__ == "__main__":
    main()
