"""``python -m examples.helpdesk.monolith``: serve the monolith under gunicorn (threads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from examples.helpdesk.monolith.app import create_app
from examples.helpdesk.monolith.settings import Settings


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{self._settings.host}:{self._settings.port}")
        self.cfg.set("workers", 1)
        self.cfg.set("threads", self._settings.threads)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("accesslog", None)

    def load(self) -> Any:
        return create_app(self._settings)


def main() -> None:
    settings = Settings()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    _Server(settings).run()


if __name__ == "__main__":
    main()
