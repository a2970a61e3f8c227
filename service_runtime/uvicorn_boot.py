"""Serving an ASGI service with uvicorn, as every FastAPI service of the kit does.

uvloop and httptools (the fast loop and parser), no access log (a line per request costs
more than some requests), no proxy headers (the strangler proxy sets ``X-Forwarded-*``; the
service does not rewrite the client from them), ``log_config=None`` so uvicorn's own lines
go through the root logger that ``service_runtime.logging.configure_logging`` set up (JSON
with the trace id), and ten seconds to finish in-flight requests on SIGTERM.
"""

from __future__ import annotations

from typing import Any

_KIT_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "log_config": None,
    "access_log": False,
    "proxy_headers": False,
    "timeout_graceful_shutdown": 10,
}


def serve(app: Any, *, host: str, port: int, **options: Any) -> None:
    """``uvicorn.run(app, ...)`` with the kit's options; ``options`` add or override
    (``factory=True, workers=n`` for an import string, ``timeout_keep_alive``, ...)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, **{**_KIT_OPTIONS, **options})
