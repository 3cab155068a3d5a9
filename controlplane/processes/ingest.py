"""The event ingester's start-up, written once for `controlplane up` and `controlplane events`."""

from __future__ import annotations

from controlplane.control.revocations import revocation_resender
from controlplane.events import Ingester
from controlplane.events.counters import seeded_stats
from controlplane.services import Services


def start_ingester(services: Services) -> Ingester:
    """Start ingesting events into `services`' database, in threads of this process.

    The counters start from the database, so /metrics does not drop to zero on a restart, and
    every worker that comes online is sent the stored revocations again.
    """
    ingester = Ingester(
        services.settings,
        services.engine,
        on_worker_online=revocation_resender(services),
        stats=seeded_stats(services.engine),
    )
    services.state.ingest_stats = ingester.stats
    return ingester.start()
