"""Running a nameko service as a process: ``python -m extracted_services.<name> [mode]``.

What both nameko workers (training, monitoring) do at start: parse the mode (``serve``,
the worker with its HTTP front, or ``consume``, a consumer-only replica), read the
settings, configure JSON logging, run the service class of that mode in a
``ServiceRunner``, stop it on SIGTERM/SIGINT, and freeze the start-up heap.

The eventlet monkey patch is NOT done here, on purpose: it must happen before anything
imports ``socket`` or ``threading``, which the service's own imports (nameko, kombu,
SQLAlchemy) do, and it must never happen in a process that merely imports this module
(the test suite's main process, the type checker's plugins). So each service's
``__main__`` starts with the two lines ``import eventlet; eventlet.monkey_patch()`` and
then calls :func:`run`; :func:`run` refuses to start an unpatched process, which would
otherwise hang on its first blocking socket call.
"""

from __future__ import annotations

import argparse
import gc
import signal
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from service_runtime.logging import configure_logging


class NamekoSettings(Protocol):
    """What the boot reads of a worker's settings."""

    host: str
    port: int
    amqp_uri: str
    log_level: str
    log_json: bool


def run(
    *,
    service: str,
    description: str,
    modes: Mapping[str, type],
    settings: Callable[[], NamekoSettings],
    settings_key: str,
    argv: list[str] | None = None,
) -> None:
    """Parse ``argv``, then run the service class of the chosen mode (the first of
    ``modes`` by default) until SIGTERM/SIGINT; ``settings_key`` is the container config
    key under which the service's dependency providers find the settings object."""
    import eventlet
    from eventlet import patcher
    from nameko.runners import ServiceRunner

    if not patcher.is_monkey_patched("socket"):
        raise RuntimeError(
            "eventlet.monkey_patch() must run first, at the top of the service's __main__"
        )
    parser = argparse.ArgumentParser(prog=f"python -m {service}", description=description)
    names = list(modes)
    parser.add_argument("mode", nargs="?", default=names[0], choices=names)
    args = parser.parse_args(argv)
    config = settings()
    configure_logging(config.log_level, service.rsplit(".", 1)[-1], json_lines=config.log_json)
    runner = ServiceRunner(
        {
            "AMQP_URI": config.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{config.host}:{config.port}",
            settings_key: config,
        }
    )
    runner.add_service(modes[args.mode])

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
