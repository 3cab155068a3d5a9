"""The fleet at a glance: queue depths and the workers that answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from controlplane.broker import QueueDepth
from controlplane.errors import BrokerUnavailable
from controlplane.health import ping_workers
from controlplane.services import Services


@dataclass
class FleetSnapshot:
    queues: list[QueueDepth] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    broker_error: str | None = None


def fleet_snapshot(services: Services) -> FleetSnapshot:
    """Depth of the configured queues and the workers answering a ping; never raises."""
    snapshot = FleetSnapshot()
    try:
        depths = services.broker.depths(services.settings.queues)
        snapshot.queues = [depths[name] for name in services.settings.queues]
    except BrokerUnavailable as exc:
        snapshot.broker_error = str(exc)
        return snapshot
    try:
        snapshot.workers = ping_workers(services.celery, services.settings.inspect_timeout)
    except Exception as exc:  # noqa: BLE001 - kombu raises many types when the broker drops
        snapshot.broker_error = f"worker ping failed: {exc}"
    return snapshot
