"""HTML building blocks of the report; every value from the reports goes through ``esc``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape


def esc(value: object) -> str:
    """Escaped text of any value (``None`` is empty)."""
    return escape("" if value is None else str(value))


def badge(outcome: str) -> str:
    return f'<span class="badge {esc(outcome)}">{esc(outcome.upper())}</span>'


def when(at: datetime | str | None) -> str:
    if at is None:
        return "–"
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            return esc(at)
    return esc(at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def figure(svg_text: str | None, caption: str) -> str:
    if svg_text is None:
        return ""
    return f"<figure>{svg_text}<figcaption>{esc(caption)}</figcaption></figure>"
