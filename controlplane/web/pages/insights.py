"""Console page of plots: throughput, failure rate, queue depth over time, runtime percentiles."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, render_template, request

from controlplane.control.task_limits import limits
from controlplane.fleet.insights import DepthSeries, Insights, insights
from controlplane.web.auth import role_required
from controlplane.web.charts import BarChart, LineChart, Series, bar_chart, line_chart

bp = Blueprint("insights", __name__)
MAX_QUEUES_PLOTTED = 8


def _minute_labels(start: datetime, minutes: int) -> list[tuple[int, str]]:
    return [
        (index, (start + timedelta(minutes=index)).strftime("%H:%M"))
        for index in range(0, minutes, 15)
    ] + [(minutes - 1, "now")]


def _depth_by_minute(series: DepthSeries, start: datetime, minutes: int) -> list[float | None]:
    """The last sample in each minute (None where the sampler took none)."""
    values: list[float | None] = [None] * minutes
    for stamp, depth in series.points:
        index = int((stamp - start).total_seconds() // 60)
        if 0 <= index < minutes:
            values[index] = depth
    return values


def short_name(name: str) -> str:
    """`proj.tasks.send_invoice` -> `tasks.send_invoice`: the part that tells tasks apart."""
    return ".".join(name.split(".")[-2:])


def charts(data: Insights) -> tuple[LineChart, LineChart, LineChart, BarChart]:
    flow = data.throughput
    labels = _minute_labels(flow.start, flow.minutes)
    throughput = line_chart(
        "Tasks finished per minute",
        [
            Series("succeeded", "series-ok", [float(v) for v in flow.succeeded]),
            Series("failed", "series-bad", [float(v) for v in flow.failed]),
        ],
        labels,
    )
    rates = flow.failure_rate
    tips = [  # a dot per minute that had work: a single busy minute still shows
        f"{(flow.start + timedelta(minutes=i)).strftime('%H:%M')}: {rate:.0%} failed"
        if rate is not None
        else ""
        for i, rate in enumerate(rates)
    ]
    failure = line_chart(
        "Failure rate", [Series("failed / finished", "series-bad", rates, tips)], labels,
        unit="%", fixed_top=1.0,
    )  # fmt: skip
    busiest = sorted(data.depths, key=lambda s: -max((d for _, d in s.points), default=0))
    depth = line_chart(
        "Queue depth (ready + reserved), last hour",
        [
            Series(s.queue, f"series-{i}", _depth_by_minute(s, flow.start, flow.minutes))
            for i, s in enumerate(busiest[:MAX_QUEUES_PLOTTED])
        ],
        labels,
    )
    runtimes = bar_chart(
        "Runtime percentiles per task, last 24 h",
        [
            (
                f"{short_name(r.name)} ({r.count:,})",
                [("p50", r.p50), ("p95", r.p95), ("p99", r.p99)],
            )
            for r in data.runtimes
        ],
    )
    return throughput, failure, depth, runtimes


@bp.get("/insights")
@role_required("viewer")
def index() -> Any:
    services = current_app.extensions["controlplane"]
    data = insights(services)
    throughput, failure, depth, runtimes = charts(data)
    if request.headers.get("HX-Request"):
        return render_template(
            "_insights.html", data=data, throughput=throughput, failure=failure, depth=depth,
            runtimes=runtimes,
        )  # fmt: skip
    in_force = limits(services)
    by_name = {r.name: r for r in data.runtimes}
    names = sorted(set(by_name) | set(in_force))
    return render_template(
        "insights.html", data=data, throughput=throughput, failure=failure, depth=depth,
        runtimes=runtimes, task_rows=[(n, by_name.get(n), in_force.get(n)) for n in names],
    )  # fmt: skip
