"""What a scrape reuses from the previous one must never show a stale figure.

`IngestStats.snapshot()` hands out the same copies for label sets that did not change, the
histogram rows and their text are reused when their sources are the same; after any change
the exposition must equal a rendering from scratch.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import update

from controlplane.broker import QueueState
from controlplane.broker.embedded import free_port
from controlplane.events.stats import IngestStats
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.metrics import Metrics
from controlplane.metrics.exposition import render
from controlplane.metrics.families import GaugeFamily, HistogramFamily, RenderCache
from controlplane.models import Worker
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
    stats.count_task("succeeded", ("proj.t7", "celery@two", queue), runtime=0.2)  # another host
    cached = metrics.scrape()
    metrics.refresh()
    fresh = render(metrics.registry)  # no cache at all

    assert cached == fresh
    text = cached.decode()
    # the histograms are per (name, queue): both hosts' runs of proj.t7 in one row
    t7 = f'name="proj.t7",queue_name="{queue}"'
    assert f'celery_task_runtime_bucket{{{t7},le="30.0"}} 2\n' in text
    assert f'celery_task_runtime_bucket{{{t7},le="60.0"}} 3\n' in text
    new = f'name="proj.new",queue_name="{queue}"'
    assert f"celery_task_runtime_count{{{new}}} 1\n" in text
    services.state.ingest_stats = None


def test_a_histogram_row_whose_counts_changed_is_written_again() -> None:
    cache = RenderCache()

    def rendered(counts: list[int], total: float) -> str:
        family = HistogramFamily("wait", "Wait.", ("queue_name",), (1.0, float("inf")))
        family.add(("q",), counts, total)
        out: list[bytes] = []
        family.render(out, cache)
        return b"".join(out).decode()

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


# ---- what a scrape keeps between scrapes shows every change in the next one (#19 item 5) ----


def _value(exposition: bytes, sample: str) -> float | None:
    """The value of the line `sample` (name with its labels), None when there is none."""
    for line in exposition.decode().splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def _sample(services: Services, queues: dict[str, int], seconds_ago: float) -> None:
    stamp = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    states = {name: QueueState(name, ready=ready) for name, ready in queues.items()}
    with services.transaction() as session:
        write_sample(session, FleetSample(stamp, states))


def test_a_new_sample_shows_in_the_next_scrape_gauges_and_backlog_alert(
    services: Services,
) -> None:
    """Queue gauges (their text reused while equal) and the backlog-growing alert (each
    sample's backlogs kept by the process) follow the sample written just before."""
    queue, other = services.settings.queues[0], services.settings.queues[1]
    samples = services.settings.alert_backlog_samples
    metrics = Metrics(services, registry=CollectorRegistry())
    length = f'celery_queue_length{{queue_name="{queue}"}}'
    growing = 'controlplane_alerts_firing{alert="backlog_growing"}'
    for n in range(samples - 1):  # growing, one sample short of the alert
        _sample(services, {queue: 20 + n, other: 1}, seconds_ago=60 - n)
        scraped = metrics.scrape()
        assert _value(scraped, length) == 20 + n
        assert _value(scraped, growing) == 0
    _sample(services, {queue: 40, other: 1}, seconds_ago=30)
    scraped = metrics.scrape()
    assert (_value(scraped, length), _value(scraped, growing)) == (40, 1)
    _sample(services, {queue: 12, other: 1}, seconds_ago=29)
    scraped = metrics.scrape()
    assert (_value(scraped, length), _value(scraped, growing)) == (12, 0)
    assert _value(scraped, f'celery_queue_length{{queue_name="{other}"}}') == 1  # reused line
    metrics.refresh()
    assert scraped == render(metrics.registry)  # equal to a rendering from scratch


def test_a_newly_registered_task_name_gets_its_own_label_in_the_next_scrape(
    services: Services,
) -> None:
    """The raw -> bounded labels are kept while the label policy is equal; a worker that
    registers a name changes the policy, and the next scrape names the task."""
    queue = services.settings.queues[0]
    stats = services.state.ingest_stats = IngestStats()
    now = datetime.now(UTC)
    with services.transaction() as session:
        session.add(Worker(hostname="celery@one", status="online", freq=2.0, last_heartbeat=now,
                           queues=json.dumps([queue]), registered=json.dumps(["proj.a"]),
                           updated_at=now))  # fmt: skip
    metrics = Metrics(services, registry=CollectorRegistry())
    stats.count_task("sent", ("proj.a", "celery@one", queue))
    stats.count_task("sent", ("proj.b", "celery@one", queue))

    def sent(name: str) -> str:
        return f'celery_task_sent_total{{name="{name}",hostname="celery@one",queue_name="{queue}"}}'

    try:
        scraped = metrics.scrape()
        assert _value(scraped, sent("proj.a")) == 1
        assert _value(scraped, sent("other")) == 1
        assert _value(scraped, sent("proj.b")) is None
        with services.transaction() as session:
            session.execute(update(Worker).values(registered=json.dumps(["proj.a", "proj.b"])))
        stats.count_task("sent", ("proj.b", "celery@one", queue))
        scraped = metrics.scrape()
        assert _value(scraped, sent("proj.b")) == 2
        assert _value(scraped, sent("other")) is None
    finally:
        services.state.ingest_stats = None


def test_a_gauge_whose_value_changes_type_is_written_again() -> None:
    """Equal values of another type may print differently (1e16 as an int and as a float)."""
    cache = RenderCache()

    def rendered(value: float) -> str:
        family = GaugeFamily("big", "Big.", ("queue_name",))
        family.add(("q",), value)
        out: list[bytes] = []
        family.render(out, cache)
        return b"".join(out).decode()

    assert 'big{queue_name="q"} 10000000000000000\n' in rendered(10**16)
    assert 'big{queue_name="q"} 1e+16\n' in rendered(1e16)
    assert 'big{queue_name="q"} 7\n' in rendered(7)


def test_a_replica_s_live_tally_recounts_only_the_label_sets_whose_rows_changed() -> None:
    from controlplane.events.live_tally import LiveTally, tally

    def row(name: str, state: str, runtime: float | None = None) -> tuple[object, ...]:
        return (name, "celery@one", "default", state, None, 0, 1, 1, 1, runtime, 0.02)

    live = LiveTally()
    rows = [row("a", "STARTED"), row("b", "SUCCESS", 0.5), row("b", "STARTED")]
    first = live.count(rows)
    again = live.count([tuple(r) for r in rows])  # equal rows, other objects
    assert again[("a", "celery@one", "default")] is first[("a", "celery@one", "default")]
    assert again[("b", "celery@one", "default")] is first[("b", "celery@one", "default")]

    rows[2] = row("b", "SUCCESS", 1.5)  # b's second row finished: b is counted again
    changed = live.count(rows)
    b = changed[("b", "celery@one", "default")]
    assert changed[("a", "celery@one", "default")] is first[("a", "celery@one", "default")]
    assert b is not first[("b", "celery@one", "default")]
    assert dict(b.kinds) == {"sent": 2, "received": 2, "started": 2, "succeeded": 2}
    assert b.runtime is not None and (b.runtime.count, b.runtime.sum) == (2, 2.0)
    fresh = tally(rows)[("b", "celery@one", "default")]  # as counting from scratch says
    assert (b.kinds, b.runtime, b.queue_wait) == (fresh.kinds, fresh.runtime, fresh.queue_wait)

    assert list(live.count(rows[:1])) == [("a", "celery@one", "default")]  # b's rows settled


def test_a_counter_row_whose_counts_changed_shows_the_new_total_at_the_next_scrape(
    services: Services,
) -> None:
    """The task counters' per-label-set counts are reused while the snapshot hands out the
    same dict: a label set counted again shows its new total, the others keep theirs."""
    queue = services.settings.queues[0]
    stats = services.state.ingest_stats = IngestStats()
    metrics = Metrics(services, registry=CollectorRegistry())
    one, two = ("proj.one", "celery@one", queue), ("proj.two", "celery@one", queue)
    stats.count_task("succeeded", one, runtime=0.1)
    stats.count_task("succeeded", two, runtime=0.1)
    metrics.scrape()
    stats.count_task("succeeded", two, runtime=0.1)
    text = metrics.scrape().decode()
    line = 'celery_task_succeeded_total{{name="{}",hostname="celery@one",queue_name="{}"}} {}\n'
    assert line.format("proj.one", queue, 1) in text
    assert line.format("proj.two", queue, 2) in text


def test_a_new_failure_shows_at_the_next_scrape(services: Services) -> None:
    """The failure rows are kept while the failures table and the policy are equal: a
    failure counted since shows in the next scrape, as a rendering from scratch has it."""
    queue = services.settings.queues[0]
    stats = services.state.ingest_stats = IngestStats()
    metrics = Metrics(services, registry=CollectorRegistry())
    stats.count_task("failed", A[:2] + (queue,), exception="ValueError('x')")

    def failed(name: str, exception: str) -> str:
        return (
            f'celery_task_failed_total{{name="{name}",hostname="{A[1]}",'
            f'exception="{exception}",queue_name="{queue}"}}'
        )

    try:
        first = metrics.scrape()
        assert _value(first, failed(A[0], "ValueError")) == 1
        assert metrics.scrape() == first  # nothing changed: the same text
        stats.count_task("failed", A[:2] + (queue,), exception="ValueError('y')")
        stats.count_task("failed", A[:2] + (queue,), exception="KeyError('k')")
        scraped = metrics.scrape()
        assert _value(scraped, failed(A[0], "ValueError")) == 2
        assert _value(scraped, failed(A[0], "KeyError")) == 1
        metrics.refresh()
        assert scraped == render(metrics.registry)
    finally:
        services.state.ingest_stats = None


def test_a_histogram_row_of_several_hosts_follows_the_one_that_changed(
    services: Services,
) -> None:
    """With the same label sets as last time only the changed ones are merged again: a row
    summed over two hosts shows a run on either, and equals a rendering from scratch."""
    queue = services.settings.queues[0]
    stats = services.state.ingest_stats = IngestStats()
    metrics = Metrics(services, registry=CollectorRegistry())
    one, two, three = (("proj.a", f"celery@{n}", queue) for n in ("one", "two", "three"))
    for labels in (one, two, three):
        stats.count_task("succeeded", labels, runtime=0.1)
    stats.count_task("started", three, queue_wait=0.02)
    row = f'name="proj.a",queue_name="{queue}"'
    try:
        assert _value(metrics.scrape(), f"celery_task_runtime_count{{{row}}}") == 3
        stats.count_task("succeeded", two, runtime=42.0)
        scraped = metrics.scrape()
        assert _value(scraped, f"celery_task_runtime_count{{{row}}}") == 4
        assert _value(scraped, f'celery_task_runtime_bucket{{{row},le="60.0"}}') == 4
        assert _value(scraped, f"celery_task_runtime_sum{{{row}}}") == pytest.approx(42.3)
        assert _value(scraped, f"celery_task_queue_wait_time_count{{{row}}}") == 1
        stats.count_task("started", one, queue_wait=0.5)  # one's first queue wait: a new part
        scraped = metrics.scrape()
        assert _value(scraped, f"celery_task_queue_wait_time_count{{{row}}}") == 2
        metrics.refresh()
        assert scraped == render(metrics.registry)
    finally:
        services.state.ingest_stats = None


def test_a_queue_that_appears_or_goes_shows_in_the_next_scrape(services: Services) -> None:
    """Each queue's label is kept while the scrape shows the same queues."""
    first, second, third = services.settings.queues[:3]
    metrics = Metrics(services, registry=CollectorRegistry())
    _sample(services, {first: 1, second: 2}, seconds_ago=20)
    scraped = metrics.scrape()
    assert _value(scraped, f'celery_queue_length{{queue_name="{second}"}}') == 2
    assert _value(scraped, f'celery_queue_length{{queue_name="{third}"}}') is None
    _sample(services, {first: 1, third: 3}, seconds_ago=10)
    scraped = metrics.scrape()
    assert _value(scraped, f'celery_queue_length{{queue_name="{second}"}}') is None
    assert _value(scraped, f'celery_queue_length{{queue_name="{third}"}}') == 3
    metrics.refresh()
    assert scraped == render(metrics.registry)
