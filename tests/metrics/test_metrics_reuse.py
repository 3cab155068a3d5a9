"""What a scrape reuses from the previous one must never show a stale figure.

`IngestStats.snapshot()` hands out the same copies for label sets that did not change, the
histogram rows and their text are reused when their sources are the same; after any change
the exposition must equal a rendering from scratch.
"""

from __future__ import annotations

from prometheus_client.registry import CollectorRegistry

from controlplane.broker.embedded import free_port
from controlplane.events.stats import IngestStats
from controlplane.metrics import Metrics
from controlplane.metrics.exposition import render
from controlplane.metrics.families import HistogramFamily, RenderCache
from controlplane.services import Services
from controlplane.web.server import OUTBUF_OVERFLOW, make_server

A = ("proj.a", "celery@one", "default")
B = ("proj.b", "celery@two", "default")


def test_snapshot_copies_only_what_changed_and_never_changes_afterwards() -> None:
    stats = IngestStats()
    stats.count_task("succeeded", A, runtime=0.2)
    stats.count_task("succeeded", B, runtime=3.0)
    first = stats.snapshot()

    stats.count_task("succeeded", B, runtime=0.01)
    second = stats.snapshot()

    assert second.runtime[A] is first.runtime[A]  # untouched: the same copy
    assert second.task_events[A] is first.task_events[A]
    assert second.runtime[B] is not first.runtime[B]
    assert (first.runtime[B].count, second.runtime[B].count) == (1, 2)  # the old one kept
    assert (first.task_events[B]["succeeded"], second.task_events[B]["succeeded"]) == (1, 2)


def test_seeded_counters_show_in_the_first_snapshot() -> None:
    rebuilt = IngestStats()
    rebuilt.count_task("failed", A, exception="ValueError('x')")
    stats = IngestStats()
    stats.count_task("sent", B)
    stats.seed(rebuilt.task_events, rebuilt.failures, rebuilt.runtime, rebuilt.queue_wait)
    snapshot = stats.snapshot()
    assert snapshot.task_events == {A: {"failed": 1}}
    assert snapshot.failures == {(*A, "ValueError"): 1}


def test_a_rescrape_after_changes_equals_a_rendering_from_scratch(services: Services) -> None:
    queue = services.settings.queues[0]  # a configured queue: shown under its own name
    stats = services.state.ingest_stats = IngestStats()
    metrics = Metrics(services, registry=CollectorRegistry())
    for index in range(40):
        stats.count_task("succeeded", (f"proj.t{index}", "celery@one", queue), runtime=0.1)
        stats.count_task("started", (f"proj.t{index}", "celery@one", queue), queue_wait=0.02)

    metrics.scrape()
    stats.count_task("succeeded", ("proj.t7", "celery@one", queue), runtime=42.0)
    stats.count_task("succeeded", ("proj.new", "celery@two", queue), runtime=0.3)
    cached = metrics.scrape()
    metrics.refresh()
    fresh = render(metrics.registry)  # no cache at all

    assert cached == fresh
    text = cached.decode()
    t7 = f'name="proj.t7",hostname="celery@one",queue_name="{queue}"'
    assert f'celery_task_runtime_bucket{{{t7},le="30.0"}} 1\n' in text
    assert f'celery_task_runtime_bucket{{{t7},le="60.0"}} 2\n' in text
    new = f'name="proj.new",hostname="celery@two",queue_name="{queue}"'
    assert f"celery_task_runtime_count{{{new}}} 1\n" in text
    services.state.ingest_stats = None


def test_a_histogram_row_whose_counts_changed_is_written_again() -> None:
    cache = RenderCache()

    def rendered(counts: list[int], total: float) -> str:
        family = HistogramFamily("wait", "Wait.", ("queue_name",), (1.0, float("inf")))
        family.add(("q",), counts, total)
        out: list[str] = []
        family.render(out, cache)
        return "".join(out)

    assert 'wait_bucket{queue_name="q",le="+Inf"} 3' in rendered([1, 3], 2.0)
    again = rendered([1, 4], 2.5)
    assert 'wait_bucket{queue_name="q",le="+Inf"} 4' in again
    assert 'wait_sum{queue_name="q"} 2.5' in again


def test_the_server_keeps_large_responses_in_memory() -> None:
    server = make_server(lambda environ, start: [], "127.0.0.1", free_port(), threads=1)
    try:
        assert server.adj.outbuf_overflow == OUTBUF_OVERFLOW
    finally:
        server.task_dispatcher.shutdown(timeout=5)
        server.close()
