"""Bursts: every task of a full-speed burst lands, and a forced cut-off becomes a recorded gap.

Redis drops a pub/sub subscriber whose unread output passes `client-output-buffer-limit
pubsub` (32 MB hard by default); the ingester keeps its socket drained so a burst lands
whole. The bench (bench/ingest.py, case `burst`) runs the big numbers; these keep N small.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, select

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.fleet.view import fleet_view
from controlplane.models import EventGap
from controlplane.services import build_services
from controlplane.web import create_app
from tests.conftest import add_user, log_in, require, wait_for
from tests.events.events_helpers import (
    firehose,
    firehose_ids,
    ingest_settings,
    rows,
    start_ingester,
)

AMQP_URL = os.environ.get("CONTROLPLANE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def private_redis() -> Iterator[EmbeddedRedis]:
    """A redis-server with default limits that this test may reconfigure."""
    with EmbeddedRedis() as server:
        yield server


def _successes(engine: object, ids: list[str]) -> int:
    return sum(t.state == "SUCCESS" for t in rows(engine, ids).values())  # type: ignore[arg-type]


@pytest.mark.long  # real processes for a long while: `make faults` runs it, so `make test` < 15 min
def test_a_full_speed_burst_lands_every_task(private_redis: EmbeddedRedis, sqlite_url: str) -> None:
    ingester, engine = start_ingester(ingest_settings(private_redis.url, sqlite_url))
    prefix, tasks = uuid.uuid4().hex[:8], 10_000
    try:
        published = firehose(private_redis.url, tasks, prefix)
        assert published["published"] == 3 * tasks
        ids = firehose_ids(prefix, tasks)
        wait_for(lambda: _successes(engine, ids) == tasks, timeout=90,
                 what=f"all {tasks} tasks of the burst")  # fmt: skip
        snapshot = ingester.stats.snapshot()
        assert snapshot.gaps == 0 and snapshot.dropped == 0
        assert snapshot.events_by_type["task-succeeded"] == tasks
    finally:
        ingester.stop()
        engine.dispose()


def test_a_forced_cut_off_is_recorded_as_a_gap_and_ingestion_resumes(
    private_redis: EmbeddedRedis, sqlite_url: str
) -> None:
    ingester, engine = start_ingester(ingest_settings(private_redis.url, sqlite_url))
    client = redis.Redis.from_url(private_redis.url)
    try:
        before = uuid.uuid4().hex[:8]
        firehose(private_redis.url, 200, before)
        wait_for(lambda: _successes(engine, firehose_ids(before, 200)) == 200, what="warm-up")
        # A subscriber may hold at most 256 kB unread; one 2 MB message cannot be written to
        # the socket at once, so Redis closes the subscription on the spot.
        client.config_set("client-output-buffer-limit", "pubsub 256kb 128kb 60")
        client.publish("/0.celeryev/task.sent", b"x" * (2 * 1024 * 1024))
        gap = wait_for(lambda: _gaps(engine), timeout=20, what="the gap of the cut-off")[0]
        assert gap.source == "redis" and "lost the redis subscription" in gap.reason
        assert gap.ended_at is not None and gap.estimated_missed is not None
        wait_for(lambda: client.execute_command("PUBSUB", "NUMPAT") >= 1, what="resubscribed")
        after = uuid.uuid4().hex[:8]
        firehose(private_redis.url, 200, after)
        wait_for(lambda: _successes(engine, firehose_ids(after, 200)) == 200,
                 what="events after the cut-off")  # fmt: skip
        assert ingester.stats.snapshot().gaps >= 1
        _assert_the_alert_strip_says_events_were_lost(ingester.settings, engine)
    finally:
        client.close()
        ingester.stop()
        engine.dispose()


def _assert_the_alert_strip_says_events_were_lost(settings: Settings, engine: Engine) -> None:
    services = build_services(settings, engine=engine)
    alerts = [a for a in fleet_view(services).alerts if a.kind == "ingest_gap"]
    assert alerts and "events were lost" in alerts[0].message
    add_user(services, "oncall", "viewer")
    client = create_app(services, {"TESTING": True}).test_client()
    log_in(client, "oncall")
    strip = client.get("/fragments/fleet").get_data(as_text=True)
    assert "Events lost" in strip and "may be incomplete" in strip


def _gaps(engine: object) -> list[EventGap]:
    with db.session_scope(db.make_session_factory(engine)) as session:  # type: ignore[arg-type]
        return list(session.scalars(select(EventGap).order_by(EventGap.id)))


def _amqp_available() -> bool:
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def test_a_burst_over_rabbitmq_lands_every_task(sqlite_url: str) -> None:
    require(_amqp_available(), f"RabbitMQ is not reachable at {AMQP_URL}")
    queue_id = f"celeryev.controlplane-test-{uuid.uuid4().hex[:8]}"
    ingester, engine = start_ingester(
        ingest_settings(AMQP_URL, sqlite_url), amqp_queue=queue_id, reconcile_after_gaps=False
    )
    prefix, tasks = uuid.uuid4().hex[:8], 2000
    try:
        deadline = time.monotonic() + 20
        while ingester.processor and ingester.processor.connected_since is None:
            assert time.monotonic() < deadline, "the AMQP consumer did not start"
            time.sleep(0.05)
        firehose(AMQP_URL, tasks, prefix)
        ids = firehose_ids(prefix, tasks)
        wait_for(lambda: _successes(engine, ids) == tasks, timeout=90,
                 what=f"all {tasks} tasks over AMQP")  # fmt: skip
        assert ingester.stats.snapshot().gaps == 0
    finally:
        ingester.stop()
        engine.dispose()
        _delete_queue(queue_id)


def _delete_queue(name: str) -> None:
    from kombu import Connection

    with Connection(AMQP_URL) as connection:
        connection.default_channel.queue_delete(name)


def test_two_installs_on_one_vhost_each_get_every_event(tmp_path: Path) -> None:
    """Each install's default event queue is named after its database: no splitting."""
    require(_amqp_available(), f"RabbitMQ is not reachable at {AMQP_URL}")
    installs = [f"sqlite:///{tmp_path / name / 'controlplane.db'}" for name in ("a", "b")]
    settings = [ingest_settings(AMQP_URL, url) for url in installs]
    names = [s.effective_event_queue for s in settings]
    assert names[0] != names[1] and all(n.startswith("celeryev.controlplane.") for n in names)
    started = [start_ingester(s, reconcile_after_gaps=False) for s in settings]
    prefix, tasks = uuid.uuid4().hex[:8], 300
    try:
        for ingester, _ in started:
            wait_for(lambda i=ingester: i.processor and i.processor.connected_since, timeout=20,
                     what="the AMQP consumer")  # fmt: skip
        firehose(AMQP_URL, tasks, prefix)
        ids = firehose_ids(prefix, tasks)
        for _, engine in started:
            wait_for(lambda e=engine: _successes(e, ids) == tasks, timeout=60,
                     what=f"all {tasks} tasks in each install")  # fmt: skip
    finally:
        for ingester, engine in started:
            ingester.stop()
            engine.dispose()
        for name in names:
            _delete_queue(name)
