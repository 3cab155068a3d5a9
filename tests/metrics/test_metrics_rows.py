"""/metrics over rows written straight into the database: label bounds, offline workers,
the audit figures, untrusted text, the incremental database counters, the exposition format,
and the Queues page's recommendation with its ScaledObject."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import yaml
from flask.testing import FlaskClient
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import delete, insert, select, true, update

from controlplane import db
from controlplane.audit_runs import latest_summaries
from controlplane.autoscale.recommender import recommendations
from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.events import stats_from_database
from controlplane.events.counters import (
    DatabaseCounters,
    GapTotals,
    seeded_stats,
    snapshot_of,
    tally_rows,
)
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.metrics import Metrics, MetricsSource
from controlplane.metrics.exposition import render
from controlplane.metrics.families import CounterFamily, GaugeFamily, HistogramFamily
from controlplane.metrics.labels import MAX_EXCEPTIONS
from controlplane.metrics.reading import AuditFigure, registered_names, scrape_workers
from controlplane.models import AuditRun, Ingester, Task, Worker, registered_digest
from controlplane.services import Services, build_services
from controlplane.web import create_app

ADD = "worker_tasks.tasks.add"
HOSTILE = 'evil"host\\\n{le="1"}'


def task_row(name: str, worker: str, queue: str, state: str = "SUCCESS", **extra: Any) -> Task:
    now = extra.pop("now", utcnow())
    started = now - timedelta(seconds=1)
    values: dict[str, Any] = dict(
        task_id=str(uuid.uuid4()), name=name, state=state, queue=queue, worker=worker,
        first_seen_at=started, sent_at=started, received_at=started, started_at=started,
        finished_at=now if state in ("SUCCESS", "FAILURE", "REVOKED") else None,
        runtime=0.5 if state == "SUCCESS" else None, queue_wait=0.01, updated_at=now,
    )  # fmt: skip
    values.update(extra)
    return Task(**values)


def worker_row(hostname: str, seen: datetime, queues: list[str], **extra: Any) -> Worker:
    return Worker(
        hostname=hostname, status=extra.pop("status", "online"), last_heartbeat=seen,
        freq=2.0, concurrency=4, active=extra.pop("active", 0), queues=json.dumps(queues),
        registered=json.dumps([ADD]), updated_at=seen, **extra,
    )  # fmt: skip


def sample(services: Services, queues: dict[str, QueueState]) -> None:
    with services.transaction() as session:
        write_sample(session, FleetSample(utcnow(), queues, sampler="test"))


def samples_of(body: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def scrape(services: Services, **changes: Any) -> dict[Any, float]:
    sibling = build_services(replace(services.settings, **changes), engine=services.engine)
    try:
        response = create_app(sibling, {"TESTING": True}).test_client().get("/metrics")
        assert response.status_code == 200
        return samples_of(response.data)
    finally:
        sibling.broker.close()
        sibling.celery.close()


def hosts_in(samples: dict[Any, float]) -> set[str]:
    return {dict(labels)["hostname"] for _, labels in samples if "hostname" in dict(labels)}


def test_an_offline_worker_keeps_its_series_for_the_setting_then_they_go(
    services: Services,
) -> None:
    now = utcnow()
    queue = "q-offline"
    with services.transaction() as session:
        session.add(worker_row("up@host", now, [queue]))
        session.add(worker_row("gone@host", now - timedelta(hours=2), [queue], status="offline",
                               offline_at=now - timedelta(hours=2)))  # fmt: skip
        session.add(task_row(ADD, "up@host", queue))
        session.add(task_row(ADD, "gone@host", queue, now=now - timedelta(hours=2)))
    sample(services, {queue: QueueState(queue, 0)})

    kept = scrape(services, metrics_offline_worker_seconds=3 * 3600)
    assert kept[("celery_worker_up", frozenset({("hostname", "gone@host")}))] == 0
    assert kept[("celery_worker_up", frozenset({("hostname", "up@host")}))] == 1
    assert hosts_in(kept) == {"up@host", "gone@host"}

    dropped = scrape(services, metrics_offline_worker_seconds=3600)
    assert hosts_in(dropped) == {"up@host"}  # gauges and task series alike
    assert ("celery_worker_up", frozenset({("hostname", "up@host")})) in dropped


def test_untrusted_names_are_bounded_and_escaped(services: Services) -> None:
    now = utcnow()
    queue = "q-bounds"
    with services.transaction() as session:
        session.add(worker_row("w@host", now, [queue]))
        session.add(worker_row(HOSTILE, now, [queue]))
        session.add(task_row(ADD, HOSTILE, queue))
        session.add(task_row("made.up.name-" + "x" * 300, "w@host", 'q"\nother'))
        for index in range(MAX_EXCEPTIONS + 5):  # a few more exception types than shown
            count = 2 if index < MAX_EXCEPTIONS else 1
            for _ in range(count):
                exception = f"Error{index:03d}('detail {uuid.uuid4()}')"
                session.add(task_row(ADD, "w@host", queue, state="FAILURE", exception=exception))
    sample(services, {queue: QueueState(queue, 0)})
    samples = scrape(services)
    assert HOSTILE in hosts_in(samples)  # escaped in the text, read back intact
    names = {dict(labels).get("name") for _, labels in samples}
    assert "made.up.name-" + "x" * 300 not in names and "other" in names
    queues = {dict(labels).get("queue_name") for _, labels in samples}
    assert 'q"\nother' not in queues and "other" in queues
    exceptions = {
        dict(labels)["exception"]: value
        for (name, labels), value in samples.items()
        if name == "celery_task_failed_total"
    }
    assert len(exceptions) == MAX_EXCEPTIONS + 1 and exceptions["other"] == 5
    assert exceptions["Error000"] == 2


def test_audit_gauges_come_from_the_injected_reader(services: Services) -> None:
    figures = [AuditFigure("shop", 0.75, 3), AuditFigure("billing", None, None)]
    source = MetricsSource(services, audits=lambda services: figures)
    registry = CollectorRegistry()
    metrics = Metrics(services, registry=registry, source=source)
    metrics.refresh()
    shop = {"project": "shop"}
    assert registry.get_sample_value("controlplane_audit_coverage_ratio", shop) == 0.75
    assert registry.get_sample_value("controlplane_audit_inline_endpoints", shop) == 3
    no_run = {"project": "billing"}
    assert registry.get_sample_value("controlplane_audit_coverage_ratio", no_run) is None


def test_a_failing_audit_reader_does_not_fail_the_scrape(services: Services) -> None:
    def broken(services: Any) -> list[AuditFigure]:
        raise RuntimeError("audit tables missing")

    metrics = Metrics(services, registry=CollectorRegistry(), source=MetricsSource(
        services, audits=broken))  # fmt: skip
    assert b"controlplane_broker_up" in metrics.scrape()


def test_audit_gauges_read_the_latest_finished_run_of_each_project(services: Services) -> None:
    now = utcnow()
    with services.transaction() as session:
        for minutes, coverage, heavy in ((60, 50.0, 7), (5, 80.0, 2)):
            session.add(AuditRun(project="shop", root="/src/shop", status="done",
                                 started_at=now - timedelta(minutes=minutes),
                                 finished_at=now - timedelta(minutes=minutes - 1),
                                 coverage=coverage, inline_heavy=heavy, endpoints=10))  # fmt: skip
    assert [s.project for s in latest_summaries(services)] == ["shop"]
    registry = Metrics(services, registry=CollectorRegistry()).registry
    shop = {"project": "shop"}
    assert registry.get_sample_value("controlplane_audit_coverage_ratio", shop) == 0.8
    assert registry.get_sample_value("controlplane_audit_inline_endpoints", shop) == 2


def test_database_counters_settle_old_rows_once_and_stay_monotonic(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        _settle_and_stay_monotonic(engine, db.make_session_factory(engine))
    finally:
        engine.dispose()


def _settle_and_stay_monotonic(engine: Any, sessions: Any) -> None:
    now = utcnow()
    old = now - timedelta(hours=3)
    with db.session_scope(sessions) as session:
        session.add(Ingester(id="i1", hostname="h", pid=1, started_at=old, alive_at=now,
                             last_event_at=now))  # fmt: skip
        for _ in range(3):
            session.add(task_row(ADD, "w@host", "q", now=old))
        session.add(task_row(ADD, "w@host", "q", state="STARTED", now=now))
    counters = DatabaseCounters(engine, ttl=0.0)
    labels = (ADD, "w@host", "q")
    first = counters.snapshot()
    assert first.task_events[labels]["succeeded"] == 3
    assert first.task_events[labels]["started"] == 4
    assert first.runtime[labels].count == 3

    with db.session_scope(sessions) as session:
        session.execute(delete(Task).where(Task.first_seen_at < now - timedelta(hours=1)))
        session.add(task_row(ADD, "w@host", "q", now=now))  # a new success
    second = counters.snapshot()
    assert second.task_events[labels]["succeeded"] == 4  # retention did not take any back
    assert second.task_events[labels]["started"] == 5
    assert second.runtime[labels].count == 4


def test_a_replica_s_counters_follow_a_live_row_at_the_next_refresh(
    services: Services,
) -> None:
    """What the last refresh summed is reused only while nothing changed: a row that starts,
    then succeeds, shows at the very next refresh, and equal refreshes give equal figures."""
    engine, sessions = services.engine, services.sessions
    now = utcnow()
    labels = (ADD, "w@host", "q")
    other = (ADD, "w@other", "q")
    with db.session_scope(sessions) as session:
        session.add(task_row(ADD, "w@host", "q", now=now - timedelta(hours=2)))  # settled
        session.add(task_row(ADD, "w@other", "q", state="STARTED", now=now))
        session.add(live := task_row(ADD, "w@host", "q", state="RECEIVED", started_at=None))
    counters = DatabaseCounters(engine, ttl=0.0)
    first = counters.snapshot()
    assert first.task_events[labels] == {"sent": 2, "received": 2, "started": 1, "succeeded": 1}
    assert counters.snapshot().task_events == first.task_events  # nothing changed

    with db.session_scope(sessions) as session:
        session.execute(update(Task).where(Task.task_id == live.task_id).values(
            state="STARTED", started_at=now, queue_wait=7.0))  # fmt: skip
    started = counters.snapshot()
    assert started.task_events[labels]["started"] == 2
    assert started.queue_wait[labels].count == 2 and started.queue_wait[labels].sum == 7.01
    assert started.task_events[other] == first.task_events[other]

    with db.session_scope(sessions) as session:
        session.execute(update(Task).where(Task.task_id == live.task_id).values(
            state="SUCCESS", finished_at=now, runtime=42.0))  # fmt: skip
    done = counters.snapshot()
    assert done.task_events[labels]["succeeded"] == 2
    assert (done.runtime[labels].count, done.runtime[labels].sum) == (2, 42.5)
    assert done.queue_wait[labels] == started.queue_wait[labels]


def test_our_rendering_says_what_prometheus_clients_rendering_says() -> None:
    class Fixed:
        def collect(self) -> Any:
            counter = CounterFamily("jobs_total", "Jobs.", ("name", "queue_name"))
            counter.add(("a", 'q"1\n'), 3)
            counter.add(("b\\", "q2"), 0)
            gauge = GaugeFamily("depth", "Depth.")
            gauge.add((), 2.5)
            histogram = HistogramFamily("wait", "Wait.", ("queue_name",), (0.1, 1.0, float("inf")))
            histogram.add(("q",), [1, 3, 4], 2.25)
            return [counter, gauge, histogram]

    registry = CollectorRegistry()
    registry.register(Fixed())
    ours = samples_of(render(registry))
    theirs = samples_of(generate_latest(registry))
    assert ours == theirs
    assert ours[("wait_bucket", frozenset({("queue_name", "q"), ("le", "1.0")}))] == 3
    assert registry.get_sample_value("jobs_total", {"name": "a", "queue_name": 'q"1\n'}) == 3


def test_queues_page_shows_the_recommendation_with_its_reason_and_scaledobject_link(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    queue = "q-page"
    now = utcnow()
    with services.transaction() as session:
        session.add(worker_row("w@host", now, [queue]))
        for _ in range(6):  # 6 arrivals in the last 30 s, 2 s each
            session.add(task_row(ADD, "w@host", queue, runtime=2.0, now=now))
    sample(services, {queue: QueueState(queue, 400, 20)})
    page = client_as("viewer").get("/queues").get_data(as_text=True)
    row = page[page.index(f'data-queue="{queue}"') :]
    row = row[: row.index("</tr>")]
    assert "backlog 420" in row and "concurrency 4" in row and "2 s per task" in row
    assert f"/queues/{queue}/scaledobject" in row
    recommended = row[row.index('data-field="recommended"') :]
    # drain: 0.4 busy slots + 420 tasks x 2 s / 30 s = 28.4 slots; 4 per worker -> 8
    assert "8 workers" in recommended


def test_scaledobject_page_fills_in_the_queue_and_its_bounds(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    settings = replace(services.settings, autoscale_min_workers=2, autoscale_max_workers=12)
    sibling = build_services(settings, engine=services.engine)
    try:
        app = create_app(sibling, {"TESTING": True})
        from tests.conftest import add_user, log_in

        add_user(sibling, "so-viewer", "viewer")
        client = app.test_client()
        log_in(client, "so-viewer")
        args = "namespace=prod&deployment=billing-workers&prometheus_url=http://prom:9090"
        page = client.get(f"/queues/billing/scaledobject?{args}")
        assert page.status_code == 200
        download = client.get(f"/queues/billing/scaledobject?{args}&download=1")
        assert download.status_code == 200
        assert "attachment" in download.headers["Content-Disposition"]
        manifest = yaml.safe_load(download.data)
        assert manifest["kind"] == "ScaledObject"
        assert manifest["metadata"]["namespace"] == "prod"
        assert manifest["spec"]["scaleTargetRef"]["name"] == "billing-workers"
        assert (manifest["spec"]["minReplicaCount"], manifest["spec"]["maxReplicaCount"]) == (2, 12)
        trigger = manifest["spec"]["triggers"][0]["metadata"]
        assert trigger["query"] == 'max(controlplane_queue_desired_workers{queue_name="billing"})'
        assert trigger["serverAddress"] == "http://prom:9090"
        assert "billing-workers" in page.get_data(as_text=True)

        bad = client.get("/queues/billing/scaledobject?namespace=Not_A_Name")
        assert bad.status_code == 400 and "Kubernetes name" in bad.get_data(as_text=True)
        assert app.test_client().get("/queues/billing/scaledobject").status_code == 302
    finally:
        sibling.broker.close()
        sibling.celery.close()


def test_the_recommendation_holds_through_the_scale_down_window_across_scrapes(
    services: Services,
) -> None:
    queue = "q-hold"
    now = utcnow()
    with services.transaction() as session:
        session.add(worker_row("w@host", now, [queue]))
        for _ in range(6):
            session.add(task_row(ADD, "w@host", queue, runtime=2.0, now=now))
    metrics = Metrics(services, registry=CollectorRegistry())
    labels = {"queue_name": queue}
    sample(services, {queue: QueueState(queue, 400, 20)})
    metrics.refresh()
    assert metrics.registry.get_sample_value("controlplane_queue_desired_workers", labels) == 8
    sample(services, {queue: QueueState(queue, 0, 0)})  # drained: the fresh answer is 1
    metrics.refresh()
    assert metrics.registry.get_sample_value("controlplane_queue_desired_workers", labels) == 8
    reading = metrics.reading()
    assert reading.desired_workers[queue] == 8
    # the scrape's counts and the pages' sentences come from one window
    desired = recommendations(services, reading.queues).get(queue)
    assert desired is not None and "holding 8 workers" in desired.reason


def test_a_worker_seen_only_through_pings_is_alive_in_the_scrape(database_url: str) -> None:
    """The scrape reads each worker's inspection time (on SQLite from ix_workers_inspected,
    apart from the rest of the row): a worker answering pings is alive, one that stopped
    answering is not, and each row gets its own time."""
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        now, hour_ago = utcnow(), utcnow() - timedelta(hours=1)
        with db.session_scope(db.make_session_factory(engine)) as session:
            session.add(worker_row("pinged@h", hour_ago, ["q"], inspected_at=now))
            session.add(worker_row("silent@h", hour_ago, ["q"], inspected_at=hour_ago))
            session.add(worker_row("never@h", hour_ago, ["q"]))
        with db.session_scope(db.make_session_factory(engine)) as session:
            workers = {w.hostname: w for w in scrape_workers(session, utcnow(), 30.0)}
        assert workers["pinged@h"].alive and workers["pinged@h"].last_seen == now
        assert workers["silent@h"].status == "offline"
        assert workers["never@h"].status == "offline" and workers["never@h"].last_seen == hour_ago
    finally:
        engine.dispose()


def test_sql_and_python_totals_equal_the_ingesters_rebuild(database_url: str) -> None:
    """Three ways of counting the same rows agree, on SQLite and PostgreSQL."""
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        now = utcnow()
        rows = [
            task_row(ADD, "w1", "q1"),
            task_row(ADD, "w1", "q1", runtime=0.003),
            task_row(ADD, "w2", "q1", runtime=4000.0, retries=2),
            task_row(
                FAILS := "tasks.fails",
                "w1",
                "q2",
                state="FAILURE",
                exception="ValueError('no (really)')",
            ),  # fmt: skip
            task_row(FAILS, "w1", "q2", state="FAILURE", exception="  pkg.mod.Err: text"),
            task_row(FAILS, "w1", "q2", state="FAILURE", exception=None),
            task_row(None, None, None, state="REVOKED"),  # type: ignore[arg-type]
            task_row(ADD, "w1", "q1", state="REJECTED"),
            task_row(
                ADD, "w1", "q1", state="PENDING", started_at=None, received_at=None, queue_wait=None
            ),  # fmt: skip
            task_row(ADD, "w1", "q1", state="RETRY", retries=1, now=now - timedelta(days=1)),
        ]
        with db.session_scope(db.make_session_factory(engine)) as session:
            session.add_all(rows)
        by_rows = stats_from_database(engine).snapshot()
        by_sql = seeded_stats(engine).snapshot()
        with engine.connect() as connection:
            by_python = snapshot_of(tally_rows(connection, true()), GapTotals())
        for snapshot in (by_sql, by_python):
            assert {k: dict(v) for k, v in snapshot.task_events.items()} == by_rows.task_events
            assert snapshot.failures == by_rows.failures
            for mine, theirs in ((snapshot.runtime, by_rows.runtime),
                                 (snapshot.queue_wait, by_rows.queue_wait)):  # fmt: skip
                assert {k: (h.counts, round(h.sum, 6)) for k, h in mine.items()} == {
                    k: (h.counts, round(h.sum, 6)) for k, h in theirs.items()
                }
        assert by_sql.failures[("tasks.fails", "w1", "q2", "pkg.mod.Err")] == 1
    finally:
        engine.dispose()


def test_queue_names_only_events_gave_are_other_on_metrics(services: Services) -> None:
    """Issue 15 item 21: a queue the sampler looked at only because events named it gets no
    series of its own and its tasks count under "other"; an orphan queue that really holds
    messages is still shown (and never a broker key)."""
    now = utcnow()
    queue, claimed, orphan = "q-known", "claimed-by-an-event", "orphan-with-backlog"
    with services.transaction() as session:
        session.add(worker_row("w@host", now, [queue]))
        session.add(task_row(ADD, "w@host", queue))
        session.add(task_row(ADD, "w@host", claimed))
        session.add(task_row(ADD, "w@host", "unacked"))
    sampled = [QueueState(queue, 0), QueueState(claimed, 0), QueueState(orphan, 5),
               QueueState("unacked", 3)]  # fmt: skip
    sample(services, {state.name: state for state in sampled})
    samples = scrape(services)
    queues = {dict(labels).get("queue_name") for _, labels in samples} - {None}
    assert claimed not in queues and "unacked" not in queues
    assert {queue, orphan, "other"} <= queues
    sent = {
        dict(labels)["queue_name"]: value
        for (name, labels), value in samples.items()
        if name == "celery_task_succeeded_total"
    }
    assert sent == {queue: 1, "other": 2}


def test_registered_names_read_each_distinct_list_once_by_its_digest(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        _registered_by_digest(engine, db.make_session_factory(engine))
    finally:
        engine.dispose()


def _registered_by_digest(engine: Any, sessions: Any) -> None:
    now, run = utcnow(), uuid.uuid4().hex[:6]
    common = [f"proj.{run}.a", f"proj.{run}.b"]
    with sessions.begin() as session:  # the ORM writes the digest with the list
        for index in range(3):
            session.add(Worker(hostname=f"w{index}-{run}", status="online", updated_at=now,
                               registered=json.dumps(common)))  # fmt: skip
    with engine.begin() as connection:  # a writer that sets no digest: its list is read whole
        connection.execute(
            insert(Worker).values(
                hostname=f"core-{run}",
                status="online",
                updated_at=now,
                registered=json.dumps([f"proj.{run}.core"]),
            )  # fmt: skip
        )
    mine = Worker.hostname.like(f"%-{run}")
    with sessions() as session:
        digests = session.scalars(select(Worker.registered_digest).where(mine)).all()
        names = registered_names(session)
    assert Counter(digests) == {registered_digest(json.dumps(common)): 3, None: 1}
    assert {*common, f"proj.{run}.core"} <= names
    # One worker's list changes: a new digest, and its names at the next read.
    with sessions.begin() as session:
        session.get(Worker, f"w0-{run}").registered = json.dumps([*common, f"proj.{run}.new"])
    with sessions() as session:
        names = registered_names(session)
        digests = session.scalars(select(Worker.registered_digest).where(mine)).all()
    assert f"proj.{run}.new" in names and len(set(digests) - {None}) == 2
    # A plain UPDATE of the list alone: the trigger clears the stale digest, the list is read.
    with engine.begin() as connection:
        moved = json.dumps([f"proj.{run}.moved"])
        one = Worker.hostname == f"w1-{run}"
        connection.execute(update(Worker).where(one).values(registered=moved))
    with sessions() as session:
        assert session.get(Worker, f"w1-{run}").registered_digest is None
        assert f"proj.{run}.moved" in registered_names(session)
    with sessions.begin() as session:
        session.execute(delete(Worker).where(mine))
    with sessions() as session:
        assert f"proj.{run}.new" not in registered_names(session)
