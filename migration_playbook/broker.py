"""Is RabbitMQ there? The kit checks before it starts anything that needs it."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

HOW_TO_START = (
    "start it with `rabbitmq-server -detached` (install it with "
    "`apt-get install -y rabbitmq-server`), or run `bash scripts/ensure_services.sh`; "
    "point the kit elsewhere with AMQP_URI"
)


def broker_problem(amqp_uri: str, timeout: float = 2.0) -> str | None:
    """None when the broker's port answers; otherwise what is wrong and how to fix it."""
    parts = urlsplit(amqp_uri)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 5672
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"RabbitMQ is unreachable at {host}:{port} ({exc.strerror or exc}); {HOW_TO_START}"
