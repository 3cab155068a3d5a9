"""Workers whose prefetch hides work: more messages held than processes, on long tasks.

A Celery worker reserves `concurrency * worker_prefetch_multiplier` messages (4x by default).
With short tasks that keeps processes fed. With long ones, the reserved tasks wait behind the
running ones for minutes while other workers (and new ones an autoscaler starts) sit idle,
and every autoscaler that reads the queue's list length sees an empty queue: a documented case
had workers holding 612-728 prefetched tasks each while the list read zero. We count what
workers hold in the backlog; this flags the workers that hold it, and says what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from controlplane.autoscale.recommender import mean_runtimes, recommender_of
from controlplane.clock import utcnow
from controlplane.events.counters import task_counters
from controlplane.fleet.health import WorkerHealth, load_workers
from controlplane.fleet.held import prefetched_by_worker
from controlplane.services import Services


@dataclass(frozen=True)
class PrefetchWarning:
    hostname: str
    prefetch_count: int
    concurrency: int
    queue: str  # the longest-running queue it consumes
    mean_runtime: float  # seconds per task there
    holding: int  # tasks it has received and not started, now

    @property
    def advice(self) -> str:
        return (
            f"{self.hostname} may hold {self.prefetch_count} messages for {self.concurrency} "
            f"process(es) on {self.queue}, where a task takes {self.mean_runtime:.0f} s on "
            f"average (holding {self.holding} now): prefetched tasks wait behind running ones "
            "while other workers idle, and list-length autoscalers cannot see them. Set "
            "worker_prefetch_multiplier=1 (with task_acks_late), or on Redis with Celery 5.6+ "
            "start the worker with --disable-prefetch."
        )


def prefetch_warnings(
    workers: list[WorkerHealth],
    service_time: Mapping[str, float],
    long_task_seconds: float,
    holding: Mapping[str, int],
) -> list[PrefetchWarning]:
    """Alive workers prefetching beyond their concurrency on a queue of long tasks."""
    found = []
    for worker in workers:
        prefetch, slots = worker.prefetch_count, worker.concurrency
        if not worker.alive or prefetch is None or not slots or prefetch <= slots:
            continue
        long_queues = [
            (service_time[q], q) for q in worker.queues
            if service_time.get(q, 0.0) >= long_task_seconds
        ]  # fmt: skip
        if not long_queues:
            continue
        runtime, queue = max(long_queues)
        found.append(
            PrefetchWarning(
                worker.hostname, prefetch, slots, queue, runtime, holding.get(worker.hostname, 0)
            )
        )
    return sorted(found, key=lambda w: (-w.holding, w.hostname))


def fleet_prefetch_warnings(services: Services) -> list[PrefetchWarning]:
    """The warnings for the fleet as the console knows it now (no broker call)."""
    now = utcnow()
    recommender = recommender_of(services)
    with services.transaction() as session:
        workers = load_workers(session, now, services.settings.inspect_interval)
        holding = prefetched_by_worker(session, now)
        recent = recommender.service_times(session, now)
    service = {**mean_runtimes(task_counters(services).runtime), **recent}
    return prefetch_warnings(
        workers, service, services.settings.autoscale_long_task_seconds, holding
    )
