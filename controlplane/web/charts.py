"""Sparklines drawn on the server as SVG polyline points: numbers only, no script, no styles."""

from __future__ import annotations

from collections.abc import Sequence

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
