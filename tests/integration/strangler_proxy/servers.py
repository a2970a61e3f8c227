"""Real servers for the proxy's integration tests: uvicorn in a thread on a 127.0.0.1 port.

``FakeUpstream`` is a small ASGI app whose behaviour (status, delay, prediction score and
decision) a test changes while it runs, and which records what it received.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections import Counter
from typing import Any

import uvicorn


class FakeUpstream:
    """A real upstream app with knobs; thread-safe enough for simple attribute flips."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.reset()

    def reset(self) -> None:
        self.status = 200
        self.delay_s = 0.0
        self.score = 0.5
        self.decision = "approve"
        self.hits: Counter[str] = Counter()
        self.last_headers: dict[str, str] = {}
        self.seen_headers: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.hits[f"{scope['method']} {path}"] += 1
        self.last_headers = headers
        self.seen_headers.append(headers)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status = self.status
        extra: list[tuple[bytes, bytes]] = [(b"x-upstream", self.name.encode())]
        if path.startswith("/api/v1/predictions") and scope["method"] == "POST":
            payload: Any = {
                "prediction_id": str(uuid.uuid4()),
                "score": self.score,
                "decision": self.decision,
                "model_version": self.name,
            }
        elif path == "/echo":
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/octet-stream"), *extra],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        elif path == "/big":
            size = int(
                dict(p.split("=") for p in scope["query_string"].decode().split("&")).get(
                    "size", "1000000"
                )
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/octet-stream"),
                        (b"connection", b"keep-alive, x-hop"),
                        (b"x-hop", b"1"),
                        *extra,
                    ],
                }
            )
            chunk = b"x" * 65536
            sent = 0
            while sent < size:
                part = chunk[: size - sent]
                sent += len(part)
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        else:
            payload = {
                "upstream": self.name,
                "method": scope["method"],
                "path": path,
                "query": scope["query_string"].decode(),
                "body_len": len(body),
            }
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})


class ServerThread:
    """Serve an ASGI app with uvicorn (uvloop, httptools) in a daemon thread."""

    def __init__(self, app: Any, sock: socket.socket | None = None) -> None:
        self.sock = sock or bind_free()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_level="warning",
            access_log=False,
            server_header=False,
            date_header=False,
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def bind_free() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def refused_url() -> str:
    """A URL on which nothing listens (a port bound, never listening)."""
    sock = bind_free()
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
