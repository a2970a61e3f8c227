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


def fresh_vhost(amqp_uri: str, name: str) -> str:
    """Recreate vhost ``name`` on the broker of ``amqp_uri`` with the kit's whole topology.

    The demo runs in a vhost of its own, recreated each time, so that messages left over
    from an earlier run (a drifted prediction window, say) cannot leak into this one.
    """
    import pika

    from eventbus import Management, apply_policies, build_topology, declare_sync

    parts = urlsplit(amqp_uri)
    uri = parts._replace(path=f"/{name}").geturl()
    management = Management.from_amqp_uri(uri)
    management.delete_vhost()
    management.create_vhost()
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        declare_sync(connection.channel(), build_topology())
    finally:
        connection.close()
    apply_policies(management, build_topology(), required=True)
    return uri
