"""The Prometheus text format (0.0.4) of a registry, fast for our own families.

Families from `families.py` write their lines in bulk; anything else registered (a
prometheus-client collector) goes through prometheus-client's own `generate_latest`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from controlplane.metrics.families import Family, LabelText

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Others(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


def render(collector: Collector) -> bytes:
    """Every family `collector` (a registry) yields, as the text exposition format."""
    out: list[str] = []
    labels = LabelText()  # the same label tuples recur in every task family
    others: list[Metric] = []
    for metric in collector.collect():
        if isinstance(metric, Family):
            metric.render(out, labels)
        else:
            others.append(metric)
    body = "".join(out).encode("utf-8", "replace")
    if others:
        body += generate_latest(_Others(others))
    return body
