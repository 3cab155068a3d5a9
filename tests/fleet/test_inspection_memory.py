"""The scheduler's inspections keep no memory per call (found by FAULTS.md row 24's long run).

Every inspect() declares a new reply queue, and kombu's Redis transport keeps that queue's
binding in an in-memory table of its connection after deleting the queue. On a pooled
connection, which lives as long as the console, that was about 2 KB per inspection round
(seven calls), every `inspect_interval`, forever.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

from controlplane.fleet.inspection import inspect_workers, scheduled_by_queue
from controlplane.services import Services
from tests.conftest import WorkerProcess

WARM_UP_ROUNDS = 10
ROUNDS = 40
# Before the fix a round kept about 2.9 KB (tracemalloc; 116 KB over 40 rounds); after it,
# under 100 bytes.
KEPT_PER_ROUND_LIMIT = 1000


def test_inspection_rounds_keep_no_memory_in_the_console(
    services: Services, worker_factory: Callable[..., WorkerProcess]
) -> None:
    queue = services.settings.queues[0]
    worker = worker_factory((queue,), concurrency=1)
    celery, timeout = services.celery, services.settings.inspect_timeout

    def round_trip() -> None:
        [report] = inspect_workers(celery, [worker.hostname], timeout)
        assert report.hostname == worker.hostname and queue in report.queues, report
        assert scheduled_by_queue(celery, [worker.hostname], timeout, {}) == {}

    tracemalloc.start()
    try:  # what the first rounds allocate once (caches, a connection) is not counted
        for _ in range(WARM_UP_ROUNDS):
            round_trip()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(ROUNDS):
            round_trip()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    print(f"{ROUNDS} inspection rounds kept {kept} bytes ({kept / ROUNDS:.0f} per round)")
    assert kept / ROUNDS < KEPT_PER_ROUND_LIMIT, kept
