"""``python -m extracted_services.inference``: serve with uvicorn (uvloop, httptools).

Configured only by environment variables (``INFERENCE_*``, ``PORT``, ``DATABASE_URL``,
``AMQP_URI``, ``MLFLOW_TRACKING_URI``). One worker: the model, the batcher and the queue
live in this process; scale out with more processes behind the proxy.
"""

from __future__ import annotations

import logging
import sys

import uvicorn

from extracted_services.inference.app import create_app
from extracted_services.inference.logs import configure_logging
from extracted_services.inference.settings import Settings

logger = logging.getLogger("extracted_services.inference")


def main() -> None:
    settings = Settings()
    # The event loop, the scoring thread and the audit thread hand the GIL to each other
    # for every batch; the default 5 ms switch interval turns each hand-off into a stall.
    sys.setswitchinterval(settings.switch_interval_ms / 1000.0)
    configure_logging(settings.log_json, settings.log_level)
    logger.info(
        "inference listening on http://%s:%s (model %s, backend %s)",
        settings.host,
        settings.port,
        settings.model_uri,
        settings.backend,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
