"""Requests over time as a small inline SVG: a row per request, a mark at its second,
coloured by status class and labelled in text, the gap since the previous request with the
same key (a poll interval), and a band from each answer that asked to wait (``Retry-After``)
to the earliest moment a retry was allowed."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sora_mock.html.page import text

__all__ = ["Mark", "Timeline", "short_path", "status_colour", "timeline_figure", "timeline_svg"]

_LABEL_WIDTH = 300
_PLOT_WIDTH = 440
_RIGHT = 110
_TOP = 28
_ROW = 18
_LEGEND = 26
_Scale = Callable[[float], float]  # seconds -> pixels


@dataclass(frozen=True, slots=True)
class _StatusClass:
    low: int
    high: int
    colour: str
    label: str


_CLASSES = (
    _StatusClass(429, 429, "#7b3fb3", "429"),
    _StatusClass(200, 299, "#1b7f3b", "2xx"),
    _StatusClass(300, 399, "#1f5fbf", "3xx"),
    _StatusClass(400, 499, "#c76a00", "4xx"),
    _StatusClass(500, 599, "#b3261e", "5xx"),
)
_NO_ANSWER = "#555555"
_FLAG = "#b3261e"


@dataclass(frozen=True, slots=True)
class Mark:
    """One request: when (seconds), what (method, path) and its answer's status (None: no
    answer). Requests sharing a ``key`` are polls of one thing: the gap between them is
    drawn. ``retry_after`` is the seconds the answer asked the client to wait; ``flag`` says
    why the request is wrong (empty when it is not)."""

    at: float
    method: str
    path: str
    status: int | None
    key: str | None = None
    retry_after: float | None = None
    flag: str = ""


@dataclass(frozen=True, slots=True)
class Timeline:
    """Requests in the order they were sent; the x axis counts from the first of them."""

    marks: tuple[Mark, ...]
    title: str = "requests over time"


def status_colour(status: int | None) -> str:
    """The colour of a status class (429 has its own)."""
    found = next((c for c in _CLASSES if status is not None and c.low <= status <= c.high), None)
    return found.colour if found is not None else _NO_ANSWER


def short_path(path: str, longest: int = 16) -> str:
    """``path`` with each segment over ``longest`` characters cut to its ends."""
    return "/".join(
        f"{part[:8]}…{part[-4:]}" if len(part) > longest else part for part in path.split("/")
    )


def timeline_svg(timeline: Timeline) -> str:
    """The timeline as an ``<svg>`` element (empty marks: a note instead of an axis)."""
    marks = timeline.marks
    rows = max(len(marks), 1)
    height = _TOP + rows * _ROW + _LEGEND
    width = _LABEL_WIDTH + _PLOT_WIDTH + _RIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{text(timeline.title)}</title>",
    ]
    if not marks:
        parts.append(f'<text x="4" y="{_TOP + 12}">no request was sent</text>')
    else:
        parts += _drawing(marks, height)
    parts += _legend(height)
    parts.append("</svg>")
    return "".join(parts)


def timeline_figure(timeline: Timeline, caption: str = "") -> str:
    """The SVG in a ``<figure>`` with a plain-text caption."""
    note = f"<figcaption>{text(caption)}</figcaption>" if caption else ""
    return f'<figure class="timeline">{timeline_svg(timeline)}{note}</figure>'


def _drawing(marks: tuple[Mark, ...], height: int) -> list[str]:
    start = min(m.at for m in marks)
    ends = [m.at + (m.retry_after or 0.0) for m in marks]
    span = max(max(ends) - start, 1e-9)

    def x(seconds: float) -> float:
        return round(_LABEL_WIDTH + (seconds - start) / span * _PLOT_WIDTH, 2)

    def y(row: int) -> float:
        return _TOP + row * _ROW + _ROW / 2

    bottom = _TOP + len(marks) * _ROW
    parts = list(_axis(span, x, start, bottom))
    for row, mark in enumerate(marks):
        if mark.flag:
            parts.append(
                f'<rect class="flagged" x="0" y="{y(row) - _ROW / 2}" width="{x(start + span)}" '
                f'height="{_ROW}" fill="#fbe9e7"/>'
            )
    for row, mark in enumerate(marks):
        if mark.retry_after is not None and mark.retry_after > 0:
            # From the answer to the earliest allowed retry, over its row and the next one,
            # where the request that followed shows inside the band or past it.
            left, right = x(mark.at), x(mark.at + mark.retry_after)
            top = y(row) - _ROW / 2
            parts.append(
                f'<g class="retry-after"><title>Retry-After: {mark.retry_after:g} s: no request '
                f"before +{mark.at - start + mark.retry_after:.2f} s</title>"
                f'<rect x="{left}" y="{top}" width="{max(right - left, 1)}" '
                f'height="{min(2 * _ROW, bottom - top)}" fill="#7b3fb3" fill-opacity="0.15" '
                f'stroke="#7b3fb3" stroke-dasharray="3 2"/></g>'
            )
    last: dict[str, float] = {}
    for row, mark in enumerate(marks):
        parts.append(_row(mark, row, start, x, y(row), last))
        if mark.key is not None:
            last[mark.key] = mark.at
    return parts


def _row(
    mark: Mark,
    row: int,
    start: float,
    x: _Scale,
    y: float,
    last: dict[str, float],
) -> str:
    status = "no answer" if mark.status is None else str(mark.status)
    label = f"+{mark.at - start:.2f}s {mark.method} {short_path(mark.path)} {status}"
    colour = status_colour(mark.status)
    tip = f"{mark.method} {mark.path} → {status}" + (f": {mark.flag}" if mark.flag else "")
    parts = [f'<g class="request" data-status="{text(status)}">']
    parts.append(f'<text x="4" y="{y + 4}">{text(label)}</text>')
    previous = last.get(mark.key) if mark.key is not None else None
    notes = []
    if previous is not None:
        parts.append(
            f'<line class="gap" x1="{x(previous)}" y1="{y}" x2="{x(mark.at)}" y2="{y}" '
            f'stroke="#888" stroke-width="1"/>'
        )
        notes.append(f'<tspan class="gap" fill="#444">Δ{mark.at - previous:.2f} s</tspan>')
    if mark.retry_after is not None and mark.retry_after > 0:
        notes.append(
            f'<tspan class="wait" fill="#7b3fb3">Retry-After {mark.retry_after:g} s</tspan>'
        )
    if notes:
        parts.append(f'<text x="{x(mark.at) + 9}" y="{y + 4}">{"  ".join(notes)}</text>')
    if mark.flag:
        parts.append(
            f'<circle cx="{x(mark.at)}" cy="{y}" r="7" fill="none" stroke="{_FLAG}" '
            f'stroke-width="2"/>'
        )
    parts.append(
        f'<circle class="mark" cx="{x(mark.at)}" cy="{y}" r="4" fill="{colour}">'
        f"<title>{text(tip)}</title></circle></g>"
    )
    return "".join(parts)


def _axis(span: float, x: _Scale, start: float, bottom: float) -> Iterable[str]:
    step = _tick_step(span)
    yield (
        f'<line class="axis" x1="{x(start)}" y1="{_TOP - 4}" x2="{x(start + span)}" '
        f'y2="{_TOP - 4}" stroke="#333"/>'
    )
    ticks = math.floor(span / step + 1e-9) + 1
    for n in range(ticks):
        at = x(start + n * step)
        yield (
            f'<line x1="{at}" y1="{_TOP - 8}" x2="{at}" y2="{bottom}" stroke="#e4e4e4"/>'
            f'<text x="{at}" y="{_TOP - 12}" text-anchor="middle" fill="#333">'
            f"{n * step:g} s</text>"
        )


def _tick_step(span: float) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) giving at most about 8 ticks over ``span``."""
    raw = span / 8
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _legend(height: int) -> list[str]:
    y = height - 9
    parts = ['<g class="legend">']
    items = [*_CLASSES, _StatusClass(0, 0, _NO_ANSWER, "no answer")]
    left = 4.0
    for item in items:
        label, colour = item.label, item.colour
        parts.append(
            f'<circle cx="{left + 4}" cy="{y - 4}" r="4" fill="{colour}"/>'
            f'<text x="{left + 11}" y="{y}">{text(label)}</text>'
        )
        left += 24 + 7 * len(label)
    parts.append(
        f'<circle cx="{left + 4}" cy="{y - 4}" r="6" fill="none" stroke="{_FLAG}" '
        f'stroke-width="2"/><text x="{left + 14}" y="{y}">breaks the rule</text>'
    )
    parts.append("</g>")
    return parts
