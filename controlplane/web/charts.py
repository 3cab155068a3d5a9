"""Charts drawn on the server as SVG coordinates: numbers only, no script, no styles.

Sparklines (queue backlog) and trend charts (audit coverage per run); templates turn them
into inline SVG elements with presentation attributes, which the CSP allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 120
HEIGHT = 24
PAD = 2


def sparkline_points(values: Sequence[int | float | None]) -> str:
    """'x,y x,y ...' for an SVG polyline of `values` (None: a minute without a sample)."""
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


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: float
    label: str  # the point's tooltip (escaped by the template like any text)
    tick: str  # a short name under the x axis, "" for none


@dataclass(frozen=True)
class TrendChart:
    """A line over a fixed 0..top scale with grid lines: numbers the template draws as SVG."""

    width: int
    height: int
    left: int  # room for the axis labels
    bottom: float  # y of the x-axis tick labels
    points: list[ChartPoint]
    grid: list[tuple[float, str]]  # (y, label)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


ALL_TICKS_UP_TO = 8  # more points than this: only the first and last are named


def trend_chart(
    values: Sequence[tuple[float, str, str]], *, top: float = 100.0, unit: str = "%",
    width: int = 520, height: int = 150,
) -> TrendChart | None:  # fmt: skip
    """A chart of (value, tooltip, tick) triples in order, on a 0..`top` scale; None if empty."""
    if not values:
        return None
    left, pad, axis = 40, 8, 18
    plot_w, plot_h = width - left - 2 * pad, height - 2 * pad - axis

    def y_of(value: float) -> float:
        return pad + plot_h * (1 - max(0.0, min(value, top)) / top)

    count = len(values)
    step = plot_w / (count - 1) if count > 1 else 0.0
    start = left + pad + (0 if count > 1 else plot_w / 2)
    points = [
        ChartPoint(start + i * step, y_of(value), value, label,
                   tick if count <= ALL_TICKS_UP_TO or i in (0, count - 1) else "")
        for i, (value, label, tick) in enumerate(values)
    ]  # fmt: skip
    grid = [(y_of(top * f), f"{top * f:g}{unit}") for f in (0.0, 0.5, 1.0)]
    return TrendChart(width, height, left, height - 4, points, grid)
