"""The event ingester's start-up, written once for `controlplane up` and `controlplane events`."""

from __future__ import annotations

from controlplane.control.mailbox import WorkerMailbox
from controlplane.control.worker_online import worker_online_hook
from controlplane.events import Ingester
from controlplane.events.counters import seeded_stats
from controlplane.failures.ingest import record_failures
from controlplane.services import Services


def start_ingester(services: Services) -> Ingester:
    """Start ingesting events into `services`' database, in threads of this process.

    The counters start from the database, so /metrics does not drop to zero on a restart, and
    every worker that comes online is sent the stored revocations, paused queues and runtime
    limits again (control.worker_online). Each final failure joins its failure group as it
    is written (failures.ingest).
    """
    ingester = Ingester(
        services.settings,
        services.engine,
        on_worker_online=worker_online_hook(services),
        stats=seeded_stats(services.engine),
        on_failures=record_failures,
    )
    services.state.ingest_stats = ingester.stats
    return ingester.start()


def start_worker_mailbox(services: Services) -> WorkerMailbox:
    """Answer starting workers: paused queues, runtime limits (controlplane.worker_hook)."""
    return WorkerMailbox(services).start()
