"""Test helpers for the real broker: a throw-away vhost per test, queue peeking, and a
TCP forwarder that stands in for a broker which comes back after an outage."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pika

from eventbus import Management, apply_policies, build_topology, declare_sync

BROKER_HOST = "127.0.0.1"
BROKER_PORT = 5672


def amqp_uri(vhost: str, port: int = BROKER_PORT) -> str:
    return f"amqp://guest:guest@{BROKER_HOST}:{port}/{vhost}"


@contextmanager
def fresh_vhost(prefix: str = "kit-test") -> Iterator[str]:
    """A new vhost with the whole topology and policies declared; deleted afterwards."""
    name = f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    uri = amqp_uri(name)
    management = Management.from_amqp_uri(uri)
    management.create_vhost()
    try:
        connection = pika.BlockingConnection(pika.URLParameters(uri))
        try:
            declare_sync(connection.channel(), build_topology())
        finally:
            connection.close()
        apply_policies(management, build_topology(), required=True)
        yield uri
    finally:
        management.delete_vhost()


def drain(uri: str, queue: str, *, max_messages: int = 100_000) -> list[tuple[Any, bytes]]:
    """Take every message currently in ``queue`` (acked): ``(properties, body)`` pairs."""
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    out = []
    try:
        channel = connection.channel()
        while len(out) < max_messages:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            out.append((props, body))
    finally:
        connection.close()
    return out


def message_count(uri: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        frame = connection.channel().queue_declare(queue, passive=True)
        return int(frame.method.message_count)
    finally:
        connection.close()


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


class TcpForwarder:
    """Listens on ``port`` and pipes each connection to the real broker (until stopped)."""

    def __init__(self, port: int, target: tuple[str, int] = (BROKER_HOST, BROKER_PORT)) -> None:
        self.port = port
        self.target = target
        self._server: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()

    def start(self) -> TcpForwarder:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((BROKER_HOST, self.port))
        server.listen(16)
        server.settimeout(0.2)
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self._stop.set()
        for sock in [self._server, *self._sockets]:
            if sock is not None:
                with suppress(OSError):
                    sock.close()
