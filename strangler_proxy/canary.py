"""The canary split: sticky by a hashed key, so one key always sees one side.

A key hashes (BLAKE2b, salted with the route name) to a bucket in 0..9999; the request goes
to the candidate when ``bucket < weight * 100``. Uniformly spread buckets keep the global
split true, and raising the weight only moves keys from primary to candidate, never back.
Without a key (or when the key is absent from the request) the choice is random.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from hashlib import blake2b
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

BUCKETS = 10_000


def bucket(route_name: str, key: str) -> int:
    """The key's stable bucket for this route (0..9999)."""
    digest = blake2b(key.encode(), digest_size=8, key=route_name.encode()[:64]).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def goes_to_candidate(route_name: str, weight: float, key: str | None) -> bool:
    """Whether this request is the candidate's; ``weight`` is a percentage."""
    if weight <= 0:
        return False
    if weight >= 100:
        return True
    threshold = int(round(weight * (BUCKETS / 100)))
    if key is None:
        return random.randrange(BUCKETS) < threshold
    return bucket(route_name, key) < threshold


def sticky_value(
    sticky_key: str | None, headers: Sequence[tuple[bytes, bytes]], query_string: bytes
) -> str | None:
    """Extract the key named by ``header:NAME``, ``query:NAME`` or ``cookie:NAME``."""
    if sticky_key is None:
        return None
    source, _, name = sticky_key.partition(":")
    if source == "header":
        wanted = name.encode("latin-1")
        for key, value in headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None
    if source == "query":
        for qkey, qvalue in parse_qsl(query_string.decode("latin-1")):
            if qkey == name:
                return qvalue
        return None
    for key, value in headers:
        if key.lower() == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            morsel = jar.get(name)
            if morsel is not None:
                return morsel.value
    return None
