"""``python -m examples.helpdesk.tickets_read``: serve the read service under uvicorn."""

from __future__ import annotations

import uvicorn

from examples.helpdesk.tickets_read.app import create_app
from examples.helpdesk.tickets_read.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
