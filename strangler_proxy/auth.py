"""JWT bearer-token checks at the edge: HS256 with a shared secret, RS256 with a JWKS file.

Signature, expiry and audience are always verified (``exp`` is required). A verified
token's claims are cached until the token expires, so a client that reuses its token
pays for one signature check, not one per request; the cache is bounded.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import jwt

from strangler_proxy.errors import Forbidden, Unauthorized
from strangler_proxy.settings import Settings

logger = logging.getLogger(__name__)


class TokenVerifier:
    """Verifies bearer tokens and checks roles; built from ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.leeway = settings.jwt_leeway_s
        self.roles_claim = settings.roles_claim
        self._hs_secret = (
            settings.jwt_secret.get_secret_value() if settings.jwt_secret is not None else None
        )
        self._rsa_keys: dict[str | None, Any] = {}
        if settings.jwks_file is not None:
            self._rsa_keys = _load_jwks(settings.jwks_file.read_text(encoding="utf-8"))
        self._cache: dict[bytes, tuple[float, dict[str, Any]]] = {}
        self._cache_size = settings.token_cache_size

    def verify_header(self, authorization: bytes | None) -> dict[str, Any]:
        """Claims of the ``Authorization: Bearer`` token, or ``Unauthorized``."""
        if not authorization:
            raise Unauthorized("a bearer token is required (Authorization: Bearer <JWT>)")
        cached = self._cache.get(authorization)
        if cached is not None:
            if cached[0] > time.time():
                return cached[1]
            del self._cache[authorization]
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <JWT>'")
        claims = self.verify(token.strip())
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[authorization] = (float(claims["exp"]) + self.leeway, claims)
        return claims

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"malformed token: {exc}") from None
        alg = header.get("alg")
        if alg == "HS256" and self._hs_secret is not None:
            key: Any = self._hs_secret
        elif alg == "RS256" and self._rsa_keys:
            kid = header.get("kid")
            key = self._rsa_keys.get(kid)
            if key is None and kid is None and len(self._rsa_keys) == 1:
                key = next(iter(self._rsa_keys.values()))
            if key is None:
                raise Unauthorized(f"unknown signing key id {kid!r}")
        else:
            raise Unauthorized(f"token algorithm {alg!r} is not accepted here")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized(f"the token's audience is not '{self.audience}'") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("the token's signature is invalid") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        return claims

    def roles(self, claims: dict[str, Any]) -> Sequence[str]:
        value = claims.get(self.roles_claim, ())
        if isinstance(value, str):
            return value.split()
        return [str(v) for v in value] if isinstance(value, list) else ()

    @staticmethod
    def subject(claims: dict[str, Any]) -> str:
        """Who the token speaks for, as the route-table history and the action log name it."""
        return str(claims.get("sub") or claims.get("email") or "unknown")

    def require_role(self, claims: dict[str, Any], role: str) -> None:
        if role not in self.roles(claims):
            raise Forbidden(f"this needs the '{role}' role in the token's '{self.roles_claim}'")


def _load_jwks(text: str) -> dict[str | None, Any]:
    data = json.loads(text)
    keys: dict[str | None, Any] = {}
    for jwk in data.get("keys", []):
        if jwk.get("kty") != "RSA":
            continue
        keys[jwk.get("kid")] = jwt.PyJWK.from_dict(jwk, algorithm="RS256").key
    if not keys:
        raise ValueError("the JWKS file holds no RSA key")
    return keys


def warn_auth_disabled() -> None:
    """Say loudly, at start-up, that the edge is open."""
    banner = "!" * 72
    logger.warning(
        "%s\nAUTH IS DISABLED (PROXY_AUTH_DISABLED=true): every request is forwarded and the "
        "admin API is open to anyone who can reach this port. Local workshops only.\n%s",
        banner,
        banner,
    )
