"""``python -m extracted_services.ingestion``: serve with uvicorn (uvloop, httptools).

Configured only by environment variables: ``INGESTION_*``, ``PORT``, ``DATABASE_URL``,
``AMQP_URI``.
"""

from __future__ import annotations

import logging

from extracted_services.ingestion.app import serve_app
from extracted_services.ingestion.settings import Settings
from service_runtime import uvicorn_boot
from service_runtime.logging import configure_logging

logger = logging.getLogger("extracted_services.ingestion")


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "ingestion", json_lines=settings.log_json)
    logger.info("ingestion listening on http://%s:%s", settings.host, settings.port)
    uvicorn_boot.serve(serve_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
