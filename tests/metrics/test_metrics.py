"""/metrics after real tasks ran through a real worker with the event ingester running.

One module fixture runs the fleet once (a worker, the ingester in this process, the sampler
called directly) and keeps the scrape it took; the tests read that scrape, a private
registry, and new apps over the same database.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.events import Ingester, stats_from_database
from controlplane.events.counters import seeded_stats
from controlplane.fleet.health import WorkerHealth, load_workers
from controlplane.fleet.sampler import Sampler
from controlplane.metrics import Metrics
from controlplane.services import Services, build_services
from controlplane.web import create_app
from controlplane.web.metrics import metrics_of
from tests.autoscale.test_deploy import metrics_contract
from tests.conftest import WorkerProcess, require, start_worker, wait_for
from tests.events.events_helpers import rows

ADD = "worker_tasks.tasks.add"
FAILS = "worker_tasks.tasks.always_fails"
FLAKY = "worker_tasks.tasks.flaky"
SLOW = "worker_tasks.tasks.slow"
UNKNOWN = "somebody.elses.task"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(exposition: bytes) -> Samples:
    """Every sample of a text exposition, by name and labels (prometheus-client's parser)."""
    found: Samples = {}
    for family in text_string_to_metric_families(exposition.decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, metric: str, /, **labels: str) -> float | None:
    return samples.get((metric, frozenset(labels.items())))


def total(samples: Samples, metric: str, /, **labels: str) -> float:
    """Sum over the samples of `metric` whose labels include `labels` (any other label)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == metric and wanted <= have)


def scrape(app: Flask, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return response.get_data()


@dataclass
class Fleet:
    settings: Settings
    services: Services
    ingester: Ingester
    worker: WorkerProcess
    sampler: Sampler
    main: str
    idle: str
    slow: str
    exposition: bytes
    samples: Samples
    registry: CollectorRegistry


@pytest.fixture(scope="module")
def fleet(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    uid = uuid.uuid4().hex[:8]
    main, idle, slow = f"m{uid}-main", f"m{uid}-idle", f"m{uid}-slow"
    directory = tmp_path_factory.mktemp("metrics")
    settings = Settings(
        broker_url=redis_server.url,
        database_url=f"sqlite:///{directory / 'controlplane.db'}",
        queues=(main,),
        secret_key="test-secret-key",
        inspect_timeout=0.5,
    )
    services = build_services(settings)
    db.upgrade(services.engine)
    stats = seeded_stats(services.engine)
    ingester = Ingester(settings, services.engine, stats=stats, flush_interval=0.05).start()
    services.state.ingest_stats = ingester.stats
    # One slot and a prefetch of 3: tasks a worker holds but has not started are visible.
    worker = start_worker(redis_server.url, (main, slow), directory, concurrency=1, prefetch=3)
    try:
        sampler = Sampler(services, services.state.latest, "test-sampler")
        wait_for(  # its tasks, queues and pool size (a reply may miss the short timeout)
            lambda: sampler.inspect(force=True) and _worker(services, worker.hostname).concurrency,
            timeout=40,
            what="the worker's inspection",
        )
        celery = services.celery
        revoked_id = str(uuid.uuid4())
        celery.control.revoke(revoked_id)  # revoked before it is sent: the worker drops it
        wait_for(
            lambda: revoked_id in _revoked_by(celery, worker.hostname),
            timeout=40,
            what="the worker to know the revocation",
        )
        sent = [
            *(celery.send_task(ADD, args=[i, 1], queue=main) for i in range(3)),
            *(celery.send_task(FAILS, args=["boom"], queue=main) for _ in range(2)),
            celery.send_task(FLAKY, kwargs={"fail_times": 1}, queue=main),
            celery.send_task(SLOW, kwargs={"seconds": 0}, queue=main, task_id=revoked_id),
        ]
        celery.send_task(UNKNOWN, queue=idle)  # nobody consumes `idle`: it stays there
        ids = [result.id for result in sent]
        final = {"SUCCESS", "FAILURE", "REVOKED"}
        wait_for(
            lambda: (found := rows(services.engine, ids)) and len(found) == len(ids)
            and all(t.state in final for t in found.values()),
            timeout=40, what="every task in a final state",
        )  # fmt: skip
        wait_for(lambda: ingester.wait_idle(1.0), timeout=40, what="the ingester to catch up")
        wait_for(  # heartbeats carry `active`: wait for one sent after the last task
            lambda: _worker(services, worker.hostname).active == 0,
            timeout=40,
            what="an idle heartbeat",
        )
        assert sampler.sample() is not None
        app = create_app(services, {"TESTING": True})
        exposition = scrape(app)
        registry = CollectorRegistry()
        private = Metrics(services, registry=registry)
        private.refresh()
        private.reading()  # pinned now: the registry shows this moment in every test
        yield Fleet(
            settings, services, ingester, worker, sampler, main, idle, slow,
            exposition, parse(exposition), registry,
        )  # fmt: skip
    finally:
        worker.kill()
        ingester.stop()
        services.close()


def _revoked_by(celery: Any, hostname: str) -> list[str]:
    replies = celery.control.inspect(destination=[hostname], timeout=1.0, limit=1).revoked()
    return list((replies or {}).get(hostname) or [])


def _worker(services: Services, hostname: str) -> WorkerHealth:
    with services.transaction() as session:
        workers = load_workers(session, utcnow(), services.settings.inspect_interval)
    return next(w for w in workers if w.hostname == hostname)


@contextmanager
def sibling(fleet: Fleet, **changes: Any) -> Iterator[Services]:
    """Another process's services (other settings, no ingester) over the same database."""
    services = build_services(replace(fleet.settings, **changes), engine=fleet.services.engine)
    try:
        yield services
    finally:
        services.broker.close()
        services.celery.close()


def at_worker(fleet: Fleet, metric: str, /, **labels: str) -> float:
    """`metric` for the fleet's worker and main queue. The ingester learns a task's queue from
    its task-sent event; when a fast worker's task-received is read first, that one event is
    counted with an empty queue label, so both are summed (nothing else may hold it)."""
    host, main = fleet.worker.hostname, fleet.main
    found = [
        value(fleet.samples, metric, hostname=host, queue_name=q, **labels) for q in (main, "")
    ]
    assert found[0] is not None, (metric, labels)
    elsewhere = total(fleet.samples, metric, hostname=host, **labels) - sum(v or 0 for v in found)
    assert elsewhere == 0, (metric, labels)
    return sum(v or 0 for v in found)


def in_queue(fleet: Fleet, metric: str, /, **labels: str) -> float:
    """A histogram's `metric` for the fleet's main queue (fleet-wide: no hostname label), the
    empty queue label summed in as `at_worker` does."""
    found = [value(fleet.samples, metric, queue_name=q, **labels) for q in (fleet.main, "")]
    assert found[0] is not None, (metric, labels)
    return sum(v or 0.0 for v in found)


def test_task_counters_have_the_values_and_labels_of_what_ran(fleet: Fleet) -> None:
    s, main = fleet.samples, fleet.main
    for kind in ("received", "started", "succeeded"):
        assert at_worker(fleet, f"celery_task_{kind}_total", name=ADD) == 3, kind
    # task-sent comes from the publishing process, under its own hostname
    assert total(s, "celery_task_sent_total", name=ADD, queue_name=main) == 3
    assert at_worker(fleet, "celery_task_failed_total", name=FAILS, exception="ValueError") == 2
    assert at_worker(fleet, "celery_task_succeeded_total", name=FAILS) == 0  # zero, present
    assert at_worker(fleet, "celery_task_retried_total", name=FLAKY) == 1
    assert at_worker(fleet, "celery_task_succeeded_total", name=FLAKY) == 1
    assert at_worker(fleet, "celery_task_revoked_total", name=SLOW) == 1
    assert at_worker(fleet, "celery_task_rejected_total", name=ADD) == 0
    # a name no worker registered is counted, under "other"
    assert total(s, "celery_task_sent_total", name="other", queue_name=fleet.idle) == 1
    assert not [k for k in s if dict(k[1]).get("name") == UNKNOWN]


def test_histograms_count_every_run_in_cumulative_buckets(fleet: Fleet) -> None:
    at_queue = partial(in_queue, fleet)
    assert at_queue("celery_task_runtime_count", name=ADD) == 3
    assert at_queue("celery_task_runtime_bucket", name=ADD, le="+Inf") == 3
    assert at_queue("celery_task_runtime_bucket", name=ADD, le="60.0") == 3  # quick
    assert 0 <= at_queue("celery_task_runtime_sum", name=ADD) < 5
    assert at_queue("celery_task_queue_wait_time_count", name=ADD) == 3
    bounds = ("0.05", "0.1", "1.0", "10.0", "60.0", "1800.0", "+Inf")  # celery-exporter's
    counts = [at_queue("celery_task_queue_wait_time_bucket", name=ADD, le=le)
              for le in bounds]  # fmt: skip
    assert counts == sorted(counts) and counts[-1] == 3  # cumulative
    # fleet-wide: no histogram series carries a hostname (names x pods x buckets otherwise)
    histograms = ("celery_task_runtime_", "celery_task_queue_wait_time_")
    assert not [k for k in fleet.samples if k[0].startswith(histograms)
                and "hostname" in dict(k[1])]  # fmt: skip


def test_worker_queue_and_ingest_gauges_describe_the_fleet(fleet: Fleet) -> None:
    s, main, idle = fleet.samples, fleet.main, fleet.idle
    assert value(s, "celery_worker_up", hostname=fleet.worker.hostname) == 1
    assert value(s, "celery_worker_tasks_active", hostname=fleet.worker.hostname) == 0
    assert value(s, "celery_queue_length", queue_name=main) == 0
    assert value(s, "celery_queue_length", queue_name=idle) == 1
    assert value(s, "celery_active_consumer_count", queue_name=main) == 1
    assert value(s, "celery_active_worker_count", queue_name=main) == 1
    assert value(s, "celery_active_process_count", queue_name=main) == 1
    assert value(s, "celery_active_worker_count", queue_name=idle) == 0
    assert value(s, "controlplane_queue_ready", queue_name=idle) == 1
    assert value(s, "controlplane_queue_reserved", queue_name=main) == 0
    assert value(s, "controlplane_queue_scheduled", queue_name=main) == 0
    assert value(s, "controlplane_queue_oldest_waiting_seconds", queue_name=main) == 0
    waiting = value(s, "controlplane_queue_oldest_waiting_seconds", queue_name=idle)
    assert waiting is not None and 0 < waiting < 60
    # 7 tasks first seen and 7 finished within the 30 s window (the retry is the same task)
    assert value(s, "controlplane_queue_arrival_rate", queue_name=main) == pytest.approx(7 / 30)
    assert value(s, "controlplane_queue_completion_rate", queue_name=main) == pytest.approx(7 / 30)
    assert value(s, "controlplane_queue_desired_workers", queue_name=main) == 1  # the minimum
    # one waiting task, no consumer, no runtime yet: 10 s assumed, 1 task in 30 s: one worker
    assert value(s, "controlplane_queue_desired_workers", queue_name=idle) == 1
    assert value(s, "controlplane_broker_up") == 1
    ingested = value(s, "controlplane_events_ingested_total")
    assert ingested is not None and ingested >= 7 * 3
    assert value(s, "controlplane_ingest_gaps_total") == 0
    assert value(s, "controlplane_events_lost_total") == 0
    assert value(s, "controlplane_ingest_lag_seconds") is not None


def test_every_contract_metric_is_exported_with_its_type(fleet: Fleet) -> None:
    text = fleet.exposition.decode()
    for name, kind in metrics_contract().items():
        assert f"# TYPE {name} {kind}\n" in text, name


def test_a_private_registry_reads_the_same_values(fleet: Fleet) -> None:
    registry = fleet.registry
    for name, sample in fleet.samples.items():
        if name[0].startswith(("celery_task_succeeded", "celery_task_runtime", "celery_queue")):
            assert registry.get_sample_value(name[0], dict(name[1])) == sample, name
    assert registry.get_sample_value("controlplane_broker_up") == 1
    assert registry.get_sample_value("celery_queue_length", {"queue_name": fleet.idle}) == 1


def test_promtool_accepts_the_exposition(fleet: Fleet) -> None:
    require(shutil.which("promtool") is not None, "promtool is missing (make system-deps)")
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=fleet.exposition, capture_output=True, timeout=60
    )
    output = (result.stdout + result.stderr).decode()
    # Exit 1 is a parse error; 3 only lint problems. The one lint promtool has is about the
    # celery-exporter names we keep on purpose ("_count" on gauges): nothing else may appear.
    assert result.returncode in (0, 3), output[:3000]
    problems = [line for line in output.splitlines() if line.strip()]
    compatible = {"celery_active_consumer_count", "celery_active_worker_count",
                  "celery_active_process_count"}  # fmt: skip
    for line in problems:
        assert line.split()[0] in compatible and '"_count" suffix' in line, line


def test_counters_are_rebuilt_from_the_database_by_a_new_app(fleet: Fleet) -> None:
    """A `serve` replica (no ingester) over the same database shows the same counts."""
    with sibling(fleet) as services:
        rebuilt = parse(scrape(create_app(services, {"TESTING": True})))
    live, main, host = fleet.samples, fleet.main, fleet.worker.hostname
    kinds = ("sent", "received", "started", "succeeded", "retried", "revoked")
    for name in (ADD, FAILS, FLAKY, SLOW):
        # A row counts each transition once: a retried task was sent, received and started
        # twice by its events, once by its row.
        for kind in kinds if name != FLAKY else ("succeeded", "retried"):
            metric = f"celery_task_{kind}_total"
            if kind == "sent":  # live: under the publisher's hostname; rebuilt: the worker's
                expected = total(live, metric, name=name, queue_name=main)
            else:
                expected = at_worker(fleet, metric, name=name)
            assert total(rebuilt, metric, name=name, queue_name=main) == expected, (name, kind)
        assert total(rebuilt, "celery_task_failed_total", name=name, hostname=host) == total(
            live, "celery_task_failed_total", name=name, hostname=host
        )
    labels = {"name": ADD, "queue_name": main}
    assert value(rebuilt, "celery_task_runtime_count", **labels) == 3
    assert value(rebuilt, "celery_task_runtime_sum", **labels) == pytest.approx(
        in_queue(fleet, "celery_task_runtime_sum", name=ADD), abs=1e-3
    )
    assert value(rebuilt, "celery_queue_length", queue_name=fleet.idle) == 1

    # The events the ingester (another process in production) wrote: from its checkpoints.
    live_then = value(live, "controlplane_events_ingested_total")
    assert live_then is not None and live_then > 0

    def replica_caught_up() -> bool:
        with sibling(fleet) as services:
            seen = value(
                parse(scrape(create_app(services, {"TESTING": True}))),
                "controlplane_events_ingested_total",
            )
        return seen is not None and seen >= live_then

    wait_for(replica_caught_up, timeout=15, what="the ingester's count in a replica's scrape")


def test_sql_totals_equal_the_ingesters_row_by_row_rebuild(fleet: Fleet) -> None:
    by_rows = stats_from_database(fleet.services.engine).snapshot()
    by_sql = seeded_stats(fleet.services.engine).snapshot()
    assert {k: v for k, v in by_sql.task_events.items()} == by_rows.task_events
    assert by_sql.failures == by_rows.failures
    for mine, theirs in (
        (by_sql.runtime, by_rows.runtime),
        (by_sql.queue_wait, by_rows.queue_wait),
    ):
        assert mine.keys() == theirs.keys()
        for labels, histogram in theirs.items():
            assert mine[labels].counts == histogram.counts
            assert mine[labels].sum == pytest.approx(histogram.sum)


def test_collapsed_hostnames_fold_every_worker_into_generic(fleet: Fleet) -> None:
    with sibling(fleet, metrics_collapse_hostnames=True) as services:
        s = parse(scrape(create_app(services, {"TESTING": True})))
    hosts = {dict(labels)["hostname"] for _, labels in s if "hostname" in dict(labels)}
    assert hosts == {"generic"}
    # other tests' workers share the session's redis-server: count whoever is up
    assert value(s, "celery_worker_up", hostname="generic") == total(
        fleet.samples, "celery_worker_up"
    )
    assert total(s, "celery_task_sent_total", name=ADD, queue_name=fleet.main) == 3


def test_the_token_is_required_when_set(fleet: Fleet) -> None:
    with sibling(fleet, metrics_token="s3cret-metrics") as services:
        client = create_app(services, {"TESTING": True}).test_client()
        missing = client.get("/metrics")
        assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
        for wrong in ("Bearer wrong", "s3cret-metrics", "Basic s3cret-metrics"):
            assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert ok.status_code == 200 and b"celery_queue_length" in ok.data


def test_no_token_set_means_no_login_needed(fleet: Fleet) -> None:
    client = create_app(fleet.services, {"TESTING": True}).test_client()
    response = client.get("/metrics")
    assert response.status_code == 200  # not a redirect to /login


def test_prefetched_messages_count_as_reserved(fleet: Fleet) -> None:
    """One slot, prefetch 3, acks_late: one task runs, two wait inside the worker."""
    celery = fleet.services.celery
    for _ in range(5):
        celery.send_task(SLOW, kwargs={"seconds": 3}, queue=fleet.slow)

    def held() -> Any:
        sample = fleet.sampler.sample()
        depth = sample.queues[fleet.slow] if sample else None
        return depth is not None and (depth.ready, depth.reserved) == (2, 3)

    wait_for(held, timeout=20, what="two ready and three reserved")
    metrics = metrics_of(create_app(fleet.services, {"TESTING": True}))
    metrics.refresh()
    labels = {"queue_name": fleet.slow}
    registry = metrics.registry
    assert registry.get_sample_value("celery_queue_length", labels) == 2
    assert registry.get_sample_value("controlplane_queue_ready", labels) == 2
    assert registry.get_sample_value("controlplane_queue_reserved", labels) == 3


def test_priority_messages_are_summed_in_the_queue_length(fleet: Fleet, unique: str) -> None:
    queue = f"prio-{unique}"
    celery = fleet.services.celery
    for priority in (0, 1, 3, 5, 7, 9, 9):  # Redis keeps steps 0, 3, 6, 9 in separate lists
        celery.send_task(UNKNOWN, queue=queue, priority=priority)
    with sibling(fleet, queues=(*fleet.settings.queues, queue)) as services:
        sampler = Sampler(services, services.state.latest, "prio-sampler")
        assert sampler.sample() is not None
        registry = Metrics(services, registry=CollectorRegistry()).registry
        assert registry.get_sample_value("celery_queue_length", {"queue_name": queue}) == 7
        assert registry.get_sample_value("controlplane_queue_ready", {"queue_name": queue}) == 7


def test_a_scrape_while_the_broker_is_down_answers_at_once(tmp_path: Path) -> None:
    broker = EmbeddedRedis().start()
    settings = Settings(
        broker_url=broker.url,
        database_url=f"sqlite:///{tmp_path / 'down.db'}",
        queues=("default",),
        secret_key="k",
        inspect_timeout=0.5,
    )
    services = build_services(settings)
    try:
        db.upgrade(services.engine)
        sampler = Sampler(services, services.state.latest, "down-sampler")
        assert sampler.sample() is not None
        app = create_app(services, {"TESTING": True})
        assert value(parse(scrape(app)), "controlplane_broker_up") == 1
        broker.stop()
        assert sampler.sample() is None  # the sampler records the outage
        started = time.monotonic()
        samples = parse(scrape(app))
        elapsed = time.monotonic() - started
        assert value(samples, "controlplane_broker_up") == 0
        assert value(samples, "celery_queue_length", queue_name="default") == 0  # last known
        assert elapsed < 5.0  # Prometheus' scrape_timeout in deploy/prometheus: no broker wait
    finally:
        services.close()
        broker.stop()
