"""Forwarding to upstreams with aiohttp: one pooled session per upstream, headers per RFC 9110.

``UpstreamClient.exchange`` sends one request with the upstream's breaker, retry rules and
retry budget, and translates remote failures into ``UpstreamError`` subclasses at this
boundary. Request headers lose the hop-by-hop fields (RFC 9110 section 7.6.1, including
those named by ``Connection``) and gain ``X-Forwarded-For/-Proto/-Host`` and a
``traceparent`` (the incoming trace continued with a new parent id, or a new trace).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence

import aiohttp

from strangler_proxy.errors import (
    CircuitOpen,
    RequestTooLarge,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from strangler_proxy.resilience import (
    RETRYABLE_STATUSES,
    BreakerState,
    CircuitBreaker,
    RetryBudget,
    backoff_delay,
    may_retry,
)
from strangler_proxy.route_table.models import Upstream

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authenticate",
        b"proxy-authorization",
    }
)
_DROP_REQUEST = HOP_BY_HOP | {
    b"host",
    b"expect",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"traceparent",
    b"content-length",
}
_TRACEPARENT = re.compile(rb"^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$")
Body = bytes | AsyncIterator[bytes] | None
RawHeaders = Sequence[tuple[bytes, bytes]]


def _connection_tokens(headers: RawHeaders) -> frozenset[bytes]:
    tokens: set[bytes] = set()
    for key, value in headers:
        if key.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    return frozenset(tokens)


def traceparent(incoming: bytes | None) -> str:
    """Continue an incoming W3C trace (new parent id) or start one."""
    if incoming is not None:
        found = _TRACEPARENT.match(incoming.strip())
        if found and found.group(1) != b"0" * 32:
            return f"00-{found.group(1).decode()}-{os.urandom(8).hex()}-{found.group(2).decode()}"
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def request_headers(
    headers: RawHeaders,
    client_host: str | None,
    scheme: str,
    keep_length: bool,
) -> list[tuple[str, str]]:
    """The headers to send upstream (see the module docstring)."""
    out: list[tuple[str, str]] = []
    xff = host = trace = length = None
    conn_tokens: frozenset[bytes] | None = None
    for key, value in headers:
        if key in _DROP_REQUEST:
            if key == b"host":
                host = value
            elif key == b"x-forwarded-for":
                xff = value
            elif key == b"traceparent":
                trace = value
            elif key == b"content-length":
                length = value
            elif key == b"connection":
                conn_tokens = _connection_tokens(headers)
            continue
        out.append((key.decode("latin-1"), value.decode("latin-1")))
    if conn_tokens:
        out = [(k, v) for k, v in out if k.lower().encode("latin-1") not in conn_tokens]
    client = client_host or "unknown"
    out.append(("X-Forwarded-For", f"{xff.decode('latin-1')}, {client}" if xff else client))
    out.append(("X-Forwarded-Proto", scheme))
    if host is not None:
        out.append(("X-Forwarded-Host", host.decode("latin-1")))
    out.append(("traceparent", traceparent(trace)))
    if keep_length and length is not None:
        out.append(("Content-Length", length.decode("latin-1")))
    return out


def response_headers(raw: RawHeaders) -> list[tuple[bytes, bytes]]:
    """The upstream's headers minus hop-by-hop fields, names lower-cased for ASGI."""
    out = []
    conn_tokens: frozenset[bytes] = frozenset()
    for key, value in raw:
        name = key.lower()
        if name in HOP_BY_HOP:
            if name == b"connection":
                conn_tokens = _connection_tokens(raw)
            continue
        out.append((name, value))
    if conn_tokens:
        out = [(k, v) for k, v in out if k not in conn_tokens]
    return out


class UpstreamClient:
    """One upstream: its pooled session, breaker and retry budget."""

    def __init__(
        self,
        name: str,
        spec: Upstream,
        keepalive_s: float,
        on_breaker: Callable[[str, BreakerState], None] | None = None,
        on_retry: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.name = name
        self.spec = spec
        self.base_url = spec.url
        self.breaker = CircuitBreaker(
            spec.breaker,
            on_change=(lambda state: on_breaker(name, state)) if on_breaker else None,
        )
        self.budget = RetryBudget(spec.retry)
        self._on_retry = on_retry
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """Created lazily, inside the running loop."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.spec.max_connections,
                limit_per_host=self.spec.max_connections,
                keepalive_timeout=self._keepalive_s,
                ttl_dns_cache=300,
            )
            timeout = aiohttp.ClientTimeout(
                total=None,
                sock_connect=self.spec.connect_timeout_s,
                sock_read=self.spec.timeout_s,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _once(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: Body,
    ) -> aiohttp.ClientResponse:
        if not self.breaker.allow():
            raise CircuitOpen(self.name, "circuit breaker is open")
        try:
            response = await self.session.request(
                method,
                self.base_url + target,
                headers=headers,
                data=body,
                allow_redirects=False,
            )
        except TimeoutError:
            self.breaker.failure()
            raise UpstreamTimeout(self.name, f"no answer within {self.spec.timeout_s} s") from None
        except aiohttp.ClientError as exc:
            too_large = _client_side(exc)
            if too_large is not None:
                # The client's streamed body crossed the limit (aiohttp wraps the error of
                # the body iterator, or not, depending on when the upstream answered): the
                # client's fault, not the upstream's.
                raise too_large from None
            self.breaker.failure()
            raise UpstreamUnavailable(self.name, _describe(exc)) from None
        if response.status in RETRYABLE_STATUSES:
            self.breaker.failure()
        else:
            self.breaker.success()
        return response

    async def exchange(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: Body,
        replayable: bool,
    ) -> aiohttp.ClientResponse:
        """Send with retries where allowed; returns the response (any status) or raises."""
        self.budget.deposit()
        retry_ok = may_retry(method, replayable)
        attempt = 1
        while True:
            try:
                response = await self._once(method, target, headers, body)
            except CircuitOpen:
                raise
            except UpstreamError:
                if not self._may_retry_now(retry_ok, attempt):
                    raise
            else:
                if response.status not in RETRYABLE_STATUSES or not self._may_retry_now(
                    retry_ok, attempt
                ):
                    return response
                response.release()
            await asyncio.sleep(backoff_delay(self.spec.retry, attempt))
            attempt += 1

    def _may_retry_now(self, retry_ok: bool, attempt: int) -> bool:
        if not retry_ok or attempt >= self.spec.retry.attempts:
            return False
        allowed = self.budget.try_spend()
        if self._on_retry is not None:
            self._on_retry(self.name, allowed)
        return allowed


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or ``limit + 1`` bytes of it when it is larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)[: limit + 1]


def _client_side(exc: BaseException) -> RequestTooLarge | None:
    """The ``RequestTooLarge`` somewhere in ``exc``'s causes, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RequestTooLarge):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {exc}"


class UpstreamPool:
    """The clients of a table's upstreams; kept across table swaps when unchanged."""

    def __init__(
        self,
        keepalive_s: float,
        on_breaker: Callable[[str, BreakerState], None] | None = None,
        on_retry: Callable[[str, bool], None] | None = None,
    ) -> None:
        self._keepalive_s = keepalive_s
        self._on_breaker = on_breaker
        self._on_retry = on_retry

    def build(
        self,
        upstreams: dict[str, Upstream],
        previous: dict[str, UpstreamClient],
    ) -> tuple[dict[str, UpstreamClient], list[UpstreamClient]]:
        """New client map for ``upstreams``, reusing unchanged ones; plus the retired ones."""
        clients: dict[str, UpstreamClient] = {}
        for name, spec in upstreams.items():
            old = previous.get(name)
            clients[name] = (
                old
                if old is not None and old.spec == spec
                else UpstreamClient(name, spec, self._keepalive_s, self._on_breaker, self._on_retry)
            )
        kept = {id(c) for c in clients.values()}
        retired = [c for c in previous.values() if id(c) not in kept]
        return clients, retired


async def close_later(clients: list[UpstreamClient], delay_s: float) -> None:
    """Close retired clients once requests in flight on the old table have had time to end."""
    await asyncio.sleep(delay_s)
    for client in clients:
        await client.close()
