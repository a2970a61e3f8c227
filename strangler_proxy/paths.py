"""The path a request is matched on is the path its upstream will act on.

The ASGI server hands over ``path`` percent-decoded and ``raw_path`` as sent. Left alone,
``/api/v1/predictions/../models/1/promote`` (or its ``%2e%2e`` spelling) matches the
predictions route and reaches an upstream that may resolve the dot-segments itself and
act on ``/api/v1/models/1/promote``: the route table and any role check looked at one
path, the upstream at another. So, before anything is matched:

- dot-segments (``.``, ``..``, also percent-encoded) are removed as RFC 3986 section 5.2.4
  says, and the request goes on with the normalised path, to the route and the upstream;
- an encoded slash or backslash (``%2F``, ``%5C``), a raw backslash or a NUL is refused
  with a 400 problem: whether it separates segments depends on the upstream, so no
  normalisation is right for every upstream.

Most requests have no ``%``, no ``/.`` and no backslash: they pass through untouched, at
the cost of three byte searches.
"""

from __future__ import annotations

from urllib.parse import unquote

from strangler_proxy.errors import ProxyError

_REFUSED = (b"%2f", b"%5c", b"%00", b"\\", b"\x00")
_DOTS = {b".": ".", b"%2e": ".", b"..": "..", b".%2e": "..", b"%2e.": "..", b"%2e%2e": ".."}


class PathNotCanonical(ProxyError):
    status = 400
    slug = "path-not-canonical"
    title = "Path not accepted"


def canonical(path: str, raw_path: bytes | None) -> tuple[str, bytes] | None:
    """The normalised (decoded path, raw path) of a request, or ``None`` when the request's
    own are already canonical; raises :class:`PathNotCanonical` for an ambiguous path."""
    raw = raw_path if raw_path is not None else path.encode("utf-8")
    if b"%" not in raw and b"/." not in raw and b"\\" not in raw and b"\x00" not in raw:
        return None
    lowered = raw.lower()
    for refused in _REFUSED:
        if refused in lowered:
            raise PathNotCanonical(
                "encoded slashes, backslashes and NUL bytes are not accepted in a path"
            )
    segments = raw.split(b"/")
    if not any(s.lower() in _DOTS for s in segments):
        return None
    kept: list[bytes] = []
    for index, segment in enumerate(segments):
        dots = _DOTS.get(segment.lower())
        last = index == len(segments) - 1
        if dots == "..":
            if len(kept) > 1:
                kept.pop()
            if last:
                kept.append(b"")  # "/a/b/.." is "/a/", a directory
        elif dots == ".":
            if last:
                kept.append(b"")
        else:
            kept.append(segment)
    normal = b"/".join(kept)
    if not normal.startswith(b"/"):
        normal = b"/" + normal
    try:
        return unquote(normal.decode("ascii"), errors="strict"), normal
    except UnicodeDecodeError:
        raise PathNotCanonical("a path is ASCII, percent-encoded UTF-8 beyond it") from None
