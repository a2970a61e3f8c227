"""``python -m extracted_services.training``: the worker and its HTTP front, one process.

eventlet's monkey-patching must come before anything else imports ``socket`` or
``threading``: this module is the only place the service patches.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
from typing import Any  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from extracted_services.training.service import TrainingConsumer, TrainingService  # noqa: E402
from extracted_services.training.settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m extracted_services.training",
        description="The training worker (nameko) with its HTTP front; `consume` runs a "
        "consumer-only replica that takes transactions_ingested from the shared queue and "
        "nothing else.",
    )
    parser.add_argument("mode", nargs="?", default="serve", choices=["serve", "consume"])
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    config = {
        "AMQP_URI": settings.amqp_uri,
        "WEB_SERVER_ADDRESS": f"{settings.host}:{settings.port}",
        "TRAINING_SETTINGS": settings,
    }
    runner = ServiceRunner(config)
    runner.add_service(TrainingService if args.mode == "serve" else TrainingConsumer)

    def shutdown(_signum: int, _frame: Any) -> None:
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    # Everything alive now (nameko, eventlet, SQLAlchemy, pydantic schemas: ~280,000
    # objects) lives as long as the process: moved out of the collector's sight, so that
    # the collections event batches trigger scan what the batches allocate, not the whole
    # start-up heap (they took half the consumer's CPU; figures in docs/performance.md).
    gc.collect()
    gc.freeze()
    runner.wait()


if __name__ == "__main__":
    main()
