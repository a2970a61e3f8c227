"""Small inline SVG charts, drawn in Python so the report needs no script and no network.

Every chart is a standalone ``<svg>`` element with a ``<title>`` (read by screen readers
and shown as a tooltip) and a ``data-chart`` attribute naming its kind, so tests can find
it in the browser's DOM. All text goes through :func:`html.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

SVG_NS = "http://www.w3.org/2000/svg"

PASS = "#1a7f37"
FAIL = "#cf222e"
WARN = "#9a6700"
CANDIDATE = "#0969da"
PRIMARY = "#6e7781"
GRID = "#d0d7de"
INK = "#24292f"
MUTED = "#57606a"
PALETTE = ("#0969da", "#8250df", "#bf3989", "#1b7c83", "#953800")

_FONT = "font-family:system-ui,sans-serif"


@dataclass(frozen=True)
class Series:
    """A line of (x, y) points; drawn as a step that holds each value until the next x."""

    label: str
    colour: str
    points: Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Marker:
    """A vertical event line at ``x`` (a rollback, say)."""

    x: float
    label: str
    colour: str = FAIL


@dataclass(frozen=True)
class Bars:
    """One series of a grouped bar chart; ``None`` is drawn as "n/a"."""

    label: str
    colour: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Dot:
    x: float
    lane: int
    colour: str
    label: str
    big: bool = False


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(kind: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="{SVG_NS}" class="chart" data-chart="{escape(kind)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}" style="{_FONT};font-size:11px">',
        f"<title>{escape(title)}</title>",
    ]


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    colour: str = MUTED,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{colour}" '
        f'font-weight="{weight}">{escape(text)}</text>'
    )


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for label, colour in items:
        out.append(f'<rect x="{_n(x)}" y="{_n(y - 8)}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, y + 1, label, colour=INK))
        x += 24 + 6.5 * len(label)
    return out


def seconds_label(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{_n(seconds)}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value:
            return step * power
    return 10.0 * power


def _ticks(top: float, count: int = 0) -> list[float]:
    """Evenly spaced ticks from 0 to ``top`` (round steps when ``top`` is a nice ceiling)."""
    if top <= 0:
        return [0.0]
    if count == 0:
        mantissa = round(top / 10.0 ** math.floor(math.log10(top)), 6)
        count = 6 if mantissa in (2.5, 5.0) else 5
    return [top * i / (count - 1) for i in range(count)]


def step_chart(
    series: Sequence[Series],
    *,
    x_max: float,
    title: str,
    markers: Sequence[Marker] = (),
    y_max: float = 100.0,
    y_unit: str = "%",
    width: int = 560,
    height: int = 220,
) -> str:
    """Values held until the next point over a time axis in seconds (e.g. traffic split)."""
    left, right, top, bottom = 44, 16, 30, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max(x_max, 1e-9)

    def sx(x: float) -> float:
        return left + plot_w * min(max(x, 0.0), x_max) / x_max

    def sy(y: float) -> float:
        return top + plot_h * (1 - min(max(y, 0.0), y_max) / y_max)

    out = _open("step", title, width, height)
    for tick in _ticks(y_max):
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(sy(tick))}" '
            f'y2="{_n(sy(tick))}" stroke="{GRID}"/>'
        )
        out.append(_text(left - 6, sy(tick) + 4, f"{_n(tick)}{y_unit}", anchor="end"))
    for tick in _ticks(x_max):
        out.append(_text(sx(tick), height - bottom + 16, seconds_label(tick), anchor="middle"))
    out.append(_text(width - right, height - 4, "time since the phase started", anchor="end"))
    for s in series:
        if not s.points:
            continue
        pts = sorted(s.points)
        d = f"M{_n(sx(pts[0][0]))} {_n(sy(pts[0][1]))}"
        for x, y in pts[1:]:
            d += f" H{_n(sx(x))} V{_n(sy(y))}"
        d += f" H{_n(sx(x_max))}"
        out.append(f'<path d="{d}" fill="none" stroke="{s.colour}" stroke-width="2.5"/>')
        for x, y in pts:
            out.append(f'<circle cx="{_n(sx(x))}" cy="{_n(sy(y))}" r="3" fill="{s.colour}"/>')
    for m in markers:
        x = sx(m.x)
        out.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{top}" y2="{height - bottom}" '
            f'stroke="{m.colour}" stroke-width="2" stroke-dasharray="5 3"/>'
        )
        anchor = "end" if x > left + plot_w / 2 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(_text(x + dx, top + 12, m.label, anchor=anchor, colour=m.colour, weight="bold"))
    out += _legend([(s.label, s.colour) for s in series], left, 14)
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Bars],
    *,
    title: str,
    fmt: Callable[[float], str] = _n,
    y_max: float | None = None,
    threshold: tuple[float, str] | None = None,
    width: int = 560,
    height: int = 220,
) -> str:
    """Grouped vertical bars, one group per category (a step, say), one bar per series."""
    left, right, top, bottom = 52, 16, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    if threshold is not None:
        values.append(threshold[0])
    top_value = y_max if y_max is not None else nice_ceiling(max(values) * 1.1 if values else 1.0)
    top_value = top_value or 1.0

    def sy(y: float) -> float:
        return top + plot_h * (1 - min(max(y, 0.0), top_value) / top_value)

    out = _open("bars", title, width, height)
    for tick in _ticks(top_value):
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(sy(tick))}" '
            f'y2="{_n(sy(tick))}" stroke="{GRID}"/>'
        )
        out.append(_text(left - 6, sy(tick) + 4, fmt(tick), anchor="end"))
    group_w = plot_w / max(len(categories), 1)
    bar_w = min(28.0, (group_w - 12) / max(len(series), 1))
    for i, category in enumerate(categories):
        gx = left + group_w * i + (group_w - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else None
            x = gx + j * bar_w
            if value is None:
                out.append(_text(x + bar_w / 2, sy(0) - 4, "n/a", anchor="middle"))
                continue
            y = sy(value)
            out.append(
                f'<rect x="{_n(x + 1)}" y="{_n(y)}" width="{_n(bar_w - 2)}" '
                f'height="{_n(sy(0) - y)}" fill="{s.colour}">'
                f"<title>{escape(f'{s.label} {category}: {fmt(value)}')}</title></rect>"
            )
            out.append(_text(x + bar_w / 2, y - 3, fmt(value), anchor="middle", colour=INK))
        out.append(
            _text(
                left + group_w * (i + 0.5),
                height - bottom + 16,
                category,
                anchor="middle",
                colour=INK,
            )
        )
    if threshold is not None:
        y = sy(threshold[0])
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{FAIL}" stroke-width="1.5" stroke-dasharray="6 3"/>'
        )
        out.append(_text(width - right, y - 4, threshold[1], anchor="end", colour=FAIL))
    out += _legend([(s.label, s.colour) for s in series], left, 14)
    out.append("</svg>")
    return "".join(out)


def hbar_chart(
    rows: Sequence[tuple[str, float, bool]],
    *,
    title: str,
    threshold: float,
    threshold_label: str,
    width: int = 560,
) -> str:
    """Horizontal bars (label, value, flagged) with a threshold line; flagged bars are red."""
    left, right, top, row_h = 150, 56, 26, 22
    height = top + row_h * max(len(rows), 1) + 22
    plot_w = width - left - right
    top_value = max([threshold * 1.5, *(v for _, v, _ in rows)]) or 1.0

    def sx(x: float) -> float:
        return left + plot_w * min(max(x, 0.0), top_value) / top_value

    out = _open("hbars", title, width, height)
    for i, (label, value, flagged) in enumerate(rows):
        y = top + i * row_h
        colour = FAIL if flagged else CANDIDATE
        out.append(_text(left - 6, y + 15, label, anchor="end", colour=INK))
        out.append(
            f'<rect x="{left}" y="{y + 4}" width="{_n(max(sx(value) - left, 1))}" '
            f'height="{row_h - 8}" fill="{colour}"/>'
        )
        out.append(_text(sx(value) + 4, y + 15, f"{value:.3f}", colour=colour))
    x = sx(threshold)
    out.append(
        f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{top - 4}" y2="{height - 18}" '
        f'stroke="{FAIL}" stroke-width="1.5" stroke-dasharray="6 3"/>'
    )
    out.append(_text(x, top - 8, threshold_label, anchor="middle", colour=FAIL))
    out.append(_text(left, height - 4, "0", anchor="middle"))
    out.append("</svg>")
    return "".join(out)


def lanes_chart(
    dots: Sequence[Dot],
    lanes: Sequence[str],
    *,
    x_max: float,
    title: str,
    width: int = 1100,
) -> str:
    """Events on a time axis, one lane per group (the ledger, one lane per phase)."""
    left, right, top, lane_h = 70, 20, 12, 30
    height = top + lane_h * max(len(lanes), 1) + 26
    plot_w = width - left - right
    x_max = max(x_max, 1e-9)

    def sx(x: float) -> float:
        return left + plot_w * min(max(x, 0.0), x_max) / x_max

    out = _open("timeline", title, width, height)
    for i, lane in enumerate(lanes):
        y = top + lane_h * i + lane_h / 2
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y)}" y2="{_n(y)}" stroke="{GRID}"/>'
        )
        out.append(_text(left - 8, y + 4, lane, anchor="end", colour=INK, weight="bold"))
    for tick in _ticks(x_max, 6):
        out.append(_text(sx(tick), height - 6, seconds_label(tick), anchor="middle"))
    for dot in dots:
        y = top + lane_h * dot.lane + lane_h / 2
        r = 8 if dot.big else 5
        out.append(
            f'<circle cx="{_n(sx(dot.x))}" cy="{_n(y)}" r="{r}" fill="{dot.colour}" '
            f'stroke="#fff" stroke-width="1.5"><title>{escape(dot.label)}</title>'
            "</circle>"
        )
        if dot.big:
            right_half = sx(dot.x) > left + plot_w / 2
            out.append(
                _text(
                    sx(dot.x) + (-11 if right_half else 11),
                    y - 6,
                    dot.label,
                    anchor="end" if right_half else "start",
                    colour=dot.colour,
                    weight="bold",
                )
            )
    out.append("</svg>")
    return "".join(out)
