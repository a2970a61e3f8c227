"""The hot path: a raw ASGI callable that authenticates, matches and forwards one request.

Per request: one pass over the headers, a cached JWT check, the route lookup, the mode's
choice of upstream, one aiohttp exchange (with retries/breaker inside the client), the
streamed answer, and a few counter increments. Anything slower (shadow copies and their
comparison) happens after the answer, off the critical path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import aiohttp

from service_runtime.asgi import Message, Receive, Scope, Send, send_problem
from strangler_proxy.access import AccessControl
from strangler_proxy.audit import ActionLog
from strangler_proxy.auth import TokenVerifier
from strangler_proxy.canary import goes_to_candidate, sticky_value
from strangler_proxy.errors import (
    BadRequestFraming,
    MethodNotAllowed,
    ProxyError,
    RequestTooLarge,
    UpstreamError,
    UpstreamUnavailable,
)
from strangler_proxy.forwarding import Body, request_headers, response_headers
from strangler_proxy.metrics import ProxyMetrics
from strangler_proxy.route_state import RouteState
from strangler_proxy.route_table.models import READ_METHODS, CanaryRoute, Route, ShadowRoute
from strangler_proxy.shadow import ShadowDispatcher, ShadowJob
from strangler_proxy.table_store import LiveTable, TableStore

logger = logging.getLogger(__name__)
_SMALL = 65_536
_NO_BODY_STATUS = frozenset({204, 304})
_REFUSED_METHODS = frozenset({"TRACE", "CONNECT"})
DEFAULT_ROUTE = "_default"


class NoTable(ProxyError):
    status = 503
    slug = "no-route-table"
    title = "No route table loaded"


class Forwarder:
    """Forwards by the live table; one instance per app."""

    def __init__(
        self,
        store: TableStore,
        shadow: ShadowDispatcher,
        metrics: ProxyMetrics,
        verifier: TokenVerifier | None,
        access: AccessControl | None,
        max_body: int,
        max_request: int,
        max_compare: int,
        actions: ActionLog | None = None,
    ) -> None:
        self.store = store
        self.actions = actions
        self.shadow = shadow
        self.metrics = metrics
        self.verifier = verifier
        self.access = access
        self.max_body = max_body
        self.max_request = max_request
        self.max_compare = max_compare

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        authorization = length = None
        chunked = False
        for key, value in headers:
            if key == b"authorization":
                authorization = value
            elif key == b"content-length":
                length = value
            elif key == b"transfer-encoding":
                chunked = True
        method: str = scope["method"]
        try:
            actor = self._admit(method, scope["path"], authorization, length)
        except ProxyError as exc:
            await send_problem(send, exc, scope["path"])
            return
        live = self.store.live  # read once: this request finishes on this table
        if live is None:
            await send_problem(send, NoTable("apply a route table first"), scope["path"])
            return
        query: bytes = scope["query_string"]
        route = live.router.match(method, scope["path"], headers, query)
        if actor is not None and self.actions is not None:
            send = _recorded(send, self.actions, actor, method, scope["path"], route)

        body: Body = None
        replayable = True
        if chunked or (length is not None and length != b"0"):
            try:
                body, replayable = await self._read_body(receive, length, chunked)
            except RequestTooLarge as exc:
                await send_problem(send, exc, scope["path"])
                return
        target = scope.get("raw_path") or scope["path"].encode()
        if query:
            target += b"?" + query
        client = scope.get("client")
        upstream_headers = request_headers(
            headers,
            client[0] if client else None,
            scope.get("scheme", "http"),
            keep_length=not replayable,
        )
        try:
            await self._route(
                send,
                live,
                route,
                method,
                target.decode("latin-1"),
                upstream_headers,
                body,
                replayable,
                headers,
                query,
            )
        except RequestTooLarge as exc:
            # A chunked body crossed the limit while it streamed to the upstream (which
            # sees it cut off); the answer had not started, so the client gets the 413.
            await send_problem(send, exc, scope["path"])

    def _admit(
        self, method: str, path: str, authorization: bytes | None, length: bytes | None
    ) -> str | None:
        """Refuse, before anything is read or matched: a bad token or missing role (401/403),
        TRACE/CONNECT (405), a Content-Length that is no number (400) or over the limit
        (413). Return the token's subject when the access policy audits the call."""
        actor = None
        if self.verifier is not None:
            claims = self.verifier.verify_header(authorization)
            if self.access is not None and self.access.check(
                method, path, self.verifier.roles(claims)
            ):
                actor = self.verifier.subject(claims)
        if method in _REFUSED_METHODS:
            raise MethodNotAllowed(method)
        if length is not None and length != b"0":
            if not length.isdigit():
                raise BadRequestFraming(f"Content-Length {length.decode('latin-1')!r}")
            if int(length) > self.max_request:
                raise RequestTooLarge(
                    f"{int(length)} bytes; at most {self.max_request} are accepted"
                )
        return actor

    async def _route(
        self,
        send: Send,
        live: LiveTable,
        route: Route | None,
        method: str,
        target: str,
        hdrs: list[tuple[str, str]],
        body: Body,
        replayable: bool,
        raw_headers: list[tuple[bytes, bytes]],
        query: bytes,
    ) -> None:
        if route is None:
            upstream = live.router.table.default_upstream
            await self._primary(
                send,
                live,
                DEFAULT_ROUTE,
                None,
                upstream,
                None,
                None,
                method,
                target,
                hdrs,
                body,
                replayable,
            )
            return
        state = live.states[route.name]
        rt = state.route
        if (
            isinstance(rt, CanaryRoute)
            and state.weight > 0
            and goes_to_candidate(
                rt.name, state.weight, sticky_value(rt.sticky_key, raw_headers, query)
            )
        ):
            await self._candidate(send, live, state, rt, method, target, hdrs, body, replayable)
            return
        captured = await self._primary(
            send,
            live,
            rt.name,
            state,
            rt.primary,
            rt.fallback,
            rt.read_fallback,
            method,
            target,
            hdrs,
            body,
            replayable,
            capture=isinstance(rt, ShadowRoute),
        )
        if isinstance(rt, ShadowRoute) and captured is not None:
            self._shadow(live, state, rt, method, target, hdrs, body, replayable, captured)

    async def _primary(
        self,
        send: Send,
        live: LiveTable,
        name: str,
        state: RouteState | None,
        upstream: str,
        fallback: str | None,
        read_fallback: str | None,
        method: str,
        target: str,
        hdrs: list[tuple[str, str]],
        body: Body,
        replayable: bool,
        capture: bool = False,
    ) -> tuple[int, bytes | None] | None:
        started = time.perf_counter()
        try:
            response = await live.clients[upstream].exchange(method, target, hdrs, body, replayable)
        except UpstreamError as exc:
            self.metrics.error(name, upstream, "primary", exc.slug)
            if fallback is None or fallback == upstream or not replayable:
                await send_problem(send, exc, target)
                return None
            await self._fallback(send, live, name, state, fallback, method, target, hdrs, body)
            return None
        if (
            response.status == 404
            and read_fallback is not None
            and read_fallback != upstream
            and method in READ_METHODS
        ):
            # Not on this side (yet): the record may have been written by the other one.
            response.release()
            await self._fallback(
                send, live, name, state, read_fallback, method, target, hdrs, body, read=True
            )
            return None
        if state is not None:
            state.sides.primary += 1
        return await self._respond(
            send, response, name, upstream, "primary", method, started, capture
        )

    async def _candidate(
        self,
        send: Send,
        live: LiveTable,
        state: RouteState,
        rt: CanaryRoute,
        method: str,
        target: str,
        hdrs: list[tuple[str, str]],
        body: Body,
        replayable: bool,
    ) -> None:
        started = time.perf_counter()
        failure: UpstreamError | None = None
        response: aiohttp.ClientResponse | None = None
        try:
            response = await live.clients[rt.candidate].exchange(
                method, target, hdrs, body, replayable
            )
        except UpstreamError as exc:
            failure = exc
        ok = response is not None and response.status < 500
        if state.guard is not None:
            state.guard.record(ok, (time.perf_counter() - started) * 1000.0)
        if response is not None and ok:
            state.sides.candidate += 1
            await self._respond(send, response, rt.name, rt.candidate, "candidate", method, started)
            return
        state.sides.candidate_errors += 1
        kind = failure.slug if failure is not None else "status_5xx"
        self.metrics.error(rt.name, rt.candidate, "candidate", kind)
        if rt.fallback is not None and replayable:
            if response is not None:
                response.release()
            await self._fallback(
                send, live, rt.name, state, rt.fallback, method, target, hdrs, body
            )
        elif response is not None:
            state.sides.candidate += 1
            await self._respond(send, response, rt.name, rt.candidate, "candidate", method, started)
        else:
            assert failure is not None
            await send_problem(send, failure, target)

    async def _fallback(
        self,
        send: Send,
        live: LiveTable,
        name: str,
        state: RouteState | None,
        upstream: str,
        method: str,
        target: str,
        hdrs: list[tuple[str, str]],
        body: Body,
        *,
        read: bool = False,
    ) -> None:
        """Serve from ``upstream`` after the chosen one failed, or (``read``) after the
        primary did not know the record a read asked for."""
        side = "read_fallback" if read else "fallback"
        if read:
            self.metrics.read_fallbacks.labels(name, upstream).inc()
        else:
            self.metrics.fallbacks.labels(name, upstream).inc()
        if state is not None:
            if read:
                state.sides.read_fallback += 1
            else:
                state.sides.fallback += 1
        started = time.perf_counter()
        try:
            response = await live.clients[upstream].exchange(method, target, hdrs, body, True)
        except UpstreamError as exc:
            self.metrics.error(name, upstream, side, exc.slug)
            await send_problem(send, exc, target)
            return
        await self._respond(send, response, name, upstream, side, method, started)

    async def _respond(
        self,
        send: Send,
        response: aiohttp.ClientResponse,
        name: str,
        upstream: str,
        side: str,
        method: str,
        started: float,
        capture: bool = False,
    ) -> tuple[int, bytes | None] | None:
        """Stream the answer to the client; return (status, body) when asked to capture."""
        status = response.status
        headers = response_headers(response.raw_headers)
        captured: bytes | None = None
        try:
            length = response.content_length
            if (
                method == "HEAD"
                or status in _NO_BODY_STATUS
                or (length is not None and length <= _SMALL)
            ):
                data = b"" if method == "HEAD" else await response.read()
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": data})
                captured = data
            else:
                await send({"type": "http.response.start", "status": status, "headers": headers})
                parts: list[bytes] | None = [] if capture else None
                size = 0
                async for chunk in response.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    if parts is not None:
                        size += len(chunk)
                        parts = parts if size <= self.max_compare else None
                        if parts is not None:
                            parts.append(chunk)
                await send({"type": "http.response.body", "body": b""})
                captured = b"".join(parts) if parts is not None else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.metrics.error(name, upstream, side, "body")
            logger.warning("route %s: upstream %s failed mid-answer: %r", name, upstream, exc)
            if captured is None and length is not None and length <= _SMALL:
                await send_problem(send, UpstreamUnavailable(upstream, "failed mid-answer"))
            return None
        finally:
            response.release()
        self.metrics.exchange(name, upstream, side, status, time.perf_counter() - started)
        return (status, captured) if capture else None

    def _shadow(
        self,
        live: LiveTable,
        state: RouteState,
        rt: ShadowRoute,
        method: str,
        target: str,
        hdrs: list[tuple[str, str]],
        body: Body,
        replayable: bool,
        captured: tuple[int, bytes | None],
    ) -> None:
        if rt.sample_percent < 100 and not goes_to_candidate(rt.name, rt.sample_percent, None):
            return
        status, primary_body = captured
        if not replayable or primary_body is None:
            self.shadow.drop(state, "body_too_large")
            return
        assert body is None or isinstance(body, bytes)
        self.shadow.submit(
            ShadowJob(
                state, live.clients[rt.candidate], method, target, hdrs, body, status, primary_body
            )
        )

    async def _read_body(
        self, receive: Receive, length: bytes | None, chunked: bool
    ) -> tuple[Body, bool]:
        """Buffer up to ``max_body`` bytes (replayable); stream anything larger, up to
        ``max_request`` bytes (the declared length was checked against it already)."""
        expected = int(length) if length is not None and length.isdigit() else None
        if expected is not None and expected > self.max_body:
            return _stream(receive, [], self.max_request), False
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            parts.append(chunk)
            size += len(chunk)
            if size > self.max_request:
                raise RequestTooLarge(f"more than {self.max_request} bytes")
            if not message.get("more_body", False):
                break
            if size > self.max_body:
                return _stream(receive, parts, self.max_request), False
        return b"".join(parts), True


async def _stream(receive: Receive, head: list[bytes], limit: int) -> AsyncIterator[bytes]:
    size = 0
    for chunk in head:
        size += len(chunk)
        yield chunk
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"more than {limit} bytes")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _recorded(
    send: Send, actions: ActionLog, actor: str, method: str, path: str, route: Route | None
) -> Send:
    """``send`` that puts the call in the action log when its answer starts (its status
    known), whichever side answered."""

    async def recording(message: Message) -> None:
        if message["type"] == "http.response.start":
            actions.record(
                "api-call",
                actor,
                method=method,
                path=path,
                route=route.name if route is not None else None,
                status=message["status"],
            )
        await send(message)

    return recording
