"""``python -m legacy_monolith [serve|migrate]``: run the monolith, configured by env vars.

``serve`` (the default) runs it under gunicorn: ``MONOLITH_WORKERS`` processes (default 1)
of ``MONOLITH_THREADS`` threads. The schema is migrated once, before the workers start;
each worker loads the serving model and follows promotions through the database.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from legacy_monolith.app import create_app
from legacy_monolith.db import Database
from legacy_monolith.settings import Settings
from service_runtime.logging import configure_logging

logger = logging.getLogger("legacy_monolith")


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self._settings.host}:{self._settings.port}",
            "workers": self._settings.workers,
            "threads": self._settings.threads,
            "worker_class": "gthread",
            "timeout": 120,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,
            "loglevel": self._settings.log_level.lower(),
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Migrated once in ``main`` before forking: workers must not race on Alembic.
        return create_app(self._settings.model_copy(update={"migrate_on_start": False}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m legacy_monolith",
        description="The legacy AI monolith. Configure with MONOLITH_* variables, PORT, "
        "DATABASE_URL.",
    )
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, "monolith", json_lines=settings.log_json)
    if args.command == "migrate":
        Database(settings.database_url).migrate()
        logger.info("schema migrated to the newest revision")
        return
    if settings.migrate_on_start:
        database = Database(settings.database_url)
        database.migrate()
        database.dispose()  # no connection may cross the fork into the workers
    logger.info(
        "monolith listening on http://%s:%s (%d worker process(es), %d threads each)",
        settings.host,
        settings.port,
        settings.workers,
        settings.threads,
    )
    _Server(settings).run()


if __name__ == "__main__":
    main()
