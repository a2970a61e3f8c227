"""A deliberately wrong provider: the real monolith behind a shim that renames one field.

It forwards every request unchanged and rewrites one answer: in the audit record
(``GET /api/v1/predictions/{id}``) the field ``decision`` comes back as ``outcome``.
Everything else, including what the provider-state handlers use, behaves correctly, so
a verification against it must fail on exactly that interaction.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_AUDIT_PATH = re.compile(r"^/api/v1/predictions/[^/]+$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


class _Shim(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = httpx.Client(base_url=upstream, timeout=30.0)


class _Handler(BaseHTTPRequestHandler):
    server: _Shim
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        reply = self.server.upstream.request(self.command, self.path, content=body, headers=headers)
        content = reply.content
        if self.command == "GET" and _AUDIT_PATH.match(self.path) and reply.status_code == 200:
            document = reply.json()
            document["outcome"] = document.pop("decision")
            content = json.dumps(document).encode()
        self.send_response(reply.status_code)
        for name, value in reply.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = _forward
    do_POST = _forward

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def wrong_provider(upstream: str) -> Iterator[str]:
    """Serve the renaming shim in front of ``upstream``; yields its URL."""
    shim = _Shim(upstream)
    thread = threading.Thread(target=shim.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{shim.server_address[1]}"
    finally:
        shim.shutdown()
        shim.server_close()
        shim.upstream.close()
