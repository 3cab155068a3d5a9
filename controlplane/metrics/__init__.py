"""Prometheus metrics: collectors over what the sampler and the ingester keep, and /metrics.

`Metrics(services)` registers the collectors (collectors.py) in a registry of its own; each
scrape reads one `Reading` (reading.py: no broker call, no broadcast) that every collector
shares, and renders it (exposition.py). The names and labels are deploy/METRICS.md.
"""

from __future__ import annotations

import threading

from prometheus_client.registry import CollectorRegistry
from sqlalchemy.exc import SQLAlchemyError

from controlplane.errors import DatabaseUnavailable
from controlplane.metrics.collectors import register_collectors
from controlplane.metrics.exposition import CONTENT_TYPE, render
from controlplane.metrics.families import RenderCache
from controlplane.metrics.reading import MetricsSource, Reading
from controlplane.services import Services

__all__ = ["CONTENT_TYPE", "Metrics", "MetricsSource", "Reading"]


class Metrics:
    """The collectors of one process over `source`, registered in `registry`."""

    def __init__(
        self,
        services: Services,
        registry: CollectorRegistry | None = None,
        source: MetricsSource | None = None,
    ) -> None:
        self.source = source or MetricsSource(services)
        self.registry = registry if registry is not None else CollectorRegistry()
        self._reading: Reading | None = None
        self._lock = threading.Lock()
        self._render_cache = RenderCache()  # used under _lock: one scrape renders at a time
        register_collectors(self.registry, self.reading)

    def reading(self) -> Reading:
        """The scrape's reading: read once, shared by every collector until `refresh()`."""
        reading = self._reading
        if reading is None:
            reading = self._reading = self.source.read()
        return reading

    def refresh(self) -> None:
        """Forget the reading; the next collector reads afresh."""
        self._reading = None

    def scrape(self) -> bytes:
        """The exposition text of one fresh reading."""
        with self._lock:
            self.refresh()
            try:
                return render(self.registry, self._render_cache)
            except SQLAlchemyError as exc:
                raise DatabaseUnavailable(f"database unavailable: {exc}") from exc
            finally:
                self.refresh()
