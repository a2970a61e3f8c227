"""The kit's operator tokens: HS256 JWTs the proxy accepts, signed with the workdir's secret."""

from __future__ import annotations

import time

import jwt

DEFAULT_AUDIENCE = "ai-migration-kit"


#: The kit's own token: it routes (operator) and drives every gate's traffic, so it holds
#: every role of the public API's access policy (contracts/openapi/v1-access.yaml).
KIT_ROLES = ("operator", "scorer", "modeler", "auditor")


def mint_token(
    secret: str,
    *,
    roles: tuple[str, ...] = KIT_ROLES,
    subject: str = "kit",
    audience: str = DEFAULT_AUDIENCE,
    ttl_s: int = 3600,
) -> str:
    """An HS256 bearer token the proxy accepts (the kit's own workdir secret)."""
    now = int(time.time())
    claims = {"sub": subject, "aud": audience, "roles": list(roles), "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm="HS256")
