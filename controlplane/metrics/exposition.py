"""The Prometheus text format (0.0.4) of a registry, fast for our own families.

Families from `families.py` write their lines in bulk; anything else registered (a
prometheus-client collector) goes through prometheus-client's own `generate_latest`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from controlplane.metrics.families import Family, RenderCache

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Others(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


def render(collector: Collector, cache: RenderCache | None = None) -> bytes:
    """Every family `collector` (a registry) yields, as the text exposition format.

    Pass the same `cache` to successive renderings of one registry (not thread-safe: one
    rendering at a time) to reuse what did not change.
    """
    out: list[bytes] = []
    cache = cache if cache is not None else RenderCache()
    others: list[Metric] = []
    for metric in collector.collect():
        if isinstance(metric, Family):
            metric.render(out, cache)
        else:
            others.append(metric)
    body = b"".join(out)
    if others:
        body += generate_latest(_Others(others))
    return body
