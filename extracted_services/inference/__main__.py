"""``python -m extracted_services.inference``: serve with uvicorn (uvloop, httptools).

Configured only by environment variables (``INFERENCE_*``, ``PORT``, ``DATABASE_URL``,
``AMQP_URI``, ``MLFLOW_TRACKING_URI``). ``INFERENCE_WORKERS`` processes share the port
(uvicorn's worker processes): each holds its own model, batcher, queue and promotion
consumer, and the kernel spreads connections between them.
"""

from __future__ import annotations

import logging

from extracted_services.inference.settings import SERVICE_NAME, Settings
from service_runtime import uvicorn_boot
from service_runtime.logging import configure_logging

logger = logging.getLogger("extracted_services.inference")


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, SERVICE_NAME, json_lines=settings.log_json)
    logger.info(
        "inference listening on http://%s:%s (model %s, backend %s, %d worker process(es))",
        settings.host,
        settings.port,
        settings.model_uri,
        settings.backend,
        settings.workers,
    )
    uvicorn_boot.serve(
        "extracted_services.inference.app:serve_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
