"""RFC 9457 problem details: the one error shape of every HTTP surface in the kit.

Every side (monolith, proxy, services) renders errors as ``application/problem+json`` with
these fields, so a client handles an error from any of them the same way.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://ai-migration-kit.dev/problems/"


def problem_type(slug: str) -> str:
    """The URI that names one kind of problem (``validation``, ``not-found``, ...)."""
    return PROBLEM_TYPE_BASE + slug


class FieldError(BaseModel):
    """One invalid input: where (a dotted/indexed path into the body or query) and why."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(examples=["transactions[0].amount"])
    message: str = Field(examples=["must be greater than 0"])


class Problem(BaseModel):
    """An RFC 9457 problem document; ``errors`` is present for validation problems."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", examples=[problem_type("validation")])
    title: str = Field(examples=["Request validation failed"])
    status: int = Field(ge=400, le=599, examples=[422])
    detail: str = Field(default="", examples=["2 fields are invalid"])
    instance: str | None = None
    errors: list[FieldError] | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body, without unset optional members."""
        return self.model_dump(mode="json", exclude_none=True)


def validation_field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``transactions[0].amount``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"
