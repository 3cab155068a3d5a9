"""Plots drawn on the server as SVG: sparklines, line charts, bar charts.

Numbers and geometry only: the templates draw them with SVG presentation attributes and CSS
classes, no script and no inline styles (the CSP forbids both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 120
HEIGHT = 24
PAD = 2


def sparkline_points(values: Sequence[int | float | None]) -> str:
    """'x,y x,y ...' for an SVG polyline of `values` (None: a minute without a sample).

    Minutes before the first sample are left out, so in a console's first hour the line
    spans the box instead of a hairline at its right end.
    """
    first = next((n for n, v in enumerate(values) if v is not None), len(values))
    values = values[first:]
    known = [v for v in values if v is not None]
    if len(values) < 2 or len(known) < 2:  # one point draws nothing
        return ""
    top = max(known) or 1
    step = WIDTH / (len(values) - 1)
    points = []
    for index, value in enumerate(values):
        if value is None:
            continue
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / top)
        points.append(f"{index * step:.1f},{y:.1f}")
    return " ".join(points)


# ---- charts with axes: geometry computed here, drawn by templates/_chart.html -------------------


@dataclass(frozen=True)
class Series:
    label: str
    css_class: str  # colour, from app.css (.series-0, .series-bad, ...)
    values: Sequence[float | None]
    # One tooltip per value: the chart then marks each point with a dot (few points, each
    # one worth naming, like audit runs).
    tooltips: Sequence[str] | None = None


@dataclass(frozen=True)
class LineChart:
    """An SVG line chart: polylines, horizontal grid lines with labels, x labels."""

    width: int
    height: int
    lines: list[tuple[Series, str]]  # (series, polyline points)
    y_ticks: list[tuple[float, str]]  # (y position, label)
    x_ticks: list[tuple[float, str]]  # (x position, label)
    title: str
    left: int = 44
    bottom: int = 22
    markers: list[tuple[Series, float, float, str]] = field(default_factory=list)  # x, y, tip


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _format_tick(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.0f}%"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:g} s"
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def line_chart(
    title: str,
    series: Sequence[Series],
    x_labels: Sequence[tuple[int, str]],
    *,
    unit: str = "",
    fixed_top: float | None = None,
    width: int = 560,
    height: int = 180,
) -> LineChart:
    """Lay out `series` (equal length, None = gap) on shared axes; `x_labels` = (index, text)."""
    left, bottom, top_pad = 44, 22, 8
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    points_count = max((len(s.values) for s in series), default=0)
    known = [v for s in series for v in s.values if v is not None]
    top = fixed_top if fixed_top is not None else _nice_top(max(known, default=0.0))
    step = plot_w / max(points_count - 1, 1)

    def at(index: int, value: float) -> tuple[float, float]:
        return left + index * step, top_pad + plot_h - plot_h * (value / top if top else 0)

    def xy(index: int, value: float) -> str:
        x, y = at(index, value)
        return f"{x:.1f},{y:.1f}"

    lines = []
    markers = []
    for item in series:
        points = " ".join(xy(i, v) for i, v in enumerate(item.values) if v is not None)
        lines.append((item, points))
        for index, (value, tip) in enumerate(zip(item.values, item.tooltips or (), strict=False)):
            if value is not None:
                markers.append((item, *at(index, value), tip))
    y_ticks = [
        (top_pad + plot_h - plot_h * fraction, _format_tick(top * fraction, unit))
        for fraction in (0, 0.5, 1)
    ]
    x_ticks = [(left + index * step, text) for index, text in x_labels]
    return LineChart(width, height, lines, y_ticks, x_ticks, title, left, bottom, markers)


@dataclass(frozen=True)
class BarChart:
    """Horizontal grouped bars, one row per label (runtime percentiles per task name)."""

    width: int
    height: int
    rows: list[tuple[str, float, list[tuple[str, float, float, str]]]]  # label, y, bars
    scale_ticks: list[tuple[float, str]]
    title: str
    label_width: int


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    unit: str = "s",
    width: int = 560,
    label_width: int = 190,
) -> BarChart:
    """`rows` = [(label, [(bar name, value), ...])]; bars share one linear scale."""
    row_h, bar_h, top_pad = 30, 7, 6
    height = top_pad + row_h * max(len(rows), 2) + 22  # room for the empty chart's sentence
    plot_w = width - label_width - 10
    top = _nice_top(max((v for _, bars in rows for _, v in bars), default=0.0))
    laid_out: list[tuple[str, float, list[tuple[str, float, float, str]]]] = []
    for index, (label, bars) in enumerate(rows):
        y = float(top_pad + index * row_h)
        shapes: list[tuple[str, float, float, str]] = []
        for offset, (name, value) in enumerate(bars):
            length = plot_w * (value / top) if top else 0
            shapes.append((name, y + 4 + offset * (bar_h + 1), length, _format_tick(value, unit)))
        laid_out.append((label, y, shapes))
    # no axis under "no data": its labels would sit where the sentence is
    ticks = [(label_width + plot_w * f, _format_tick(top * f, unit)) for f in (0, 0.5, 1)]
    return BarChart(width, height, laid_out, ticks if rows else [], title, label_width)
