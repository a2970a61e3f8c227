"""``python -m strangler_proxy``: serve the proxy with uvicorn (uvloop, httptools)."""

from __future__ import annotations

import logging

import uvicorn

from strangler_proxy.app import create_app
from strangler_proxy.settings import Settings


def main() -> None:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        server_header=False,
        date_header=False,
        proxy_headers=False,
        timeout_keep_alive=settings.uvicorn_keepalive_s,
    )


if __name__ == "__main__":
    main()
