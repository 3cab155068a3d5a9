"""Row 12 of FAULTS.md: two `controlplane scheduler` replicas share a PostgreSQL database; the
leader is SIGKILLed midway. The scheduler's own fire here is the queue sample (one
`queue_samples` row per queue per sample), every second.

Asserted: the standby never samples while the leader lives, takes over once the lock has expired
(within the lease plus its retry period; generous deadline), and every sample either replica
logged is in the database exactly once: one row per sample time, the standby's rows == its
logged samples, and every leader row precedes the kill while every standby row follows it (no
interval sampled by both).
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.models import QueueSample
from tests.conftest import wait_for
from tests.processes.test_scheduler import SchedulerProcess, scheduler_env, scheduler_spawner

LOCK_TTL = 2.0
INTERVAL = 1.0


@pytest.fixture
def replicas(
    redis_server: EmbeddedRedis, postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Callable[[], SchedulerProcess], str]]:
    """Spawn schedulers on one PostgreSQL schema; yields (spawn, the queue they sample)."""
    engine = db.make_engine(postgres_url)
    db.upgrade(engine)
    engine.dispose()
    queue = f"cp-row12-{uuid.uuid4().hex[:8]}"
    env = scheduler_env(redis_server.url, postgres_url, queue, INTERVAL, LOCK_TTL)
    for spawn in scheduler_spawner(env, tmp_path, request):
        yield spawn, queue


def test_row12_leader_sigkilled_each_sample_written_once_and_the_standby_takes_over(
    replicas: tuple[Callable[[], SchedulerProcess], str], postgres_url: str
) -> None:
    spawn, queue = replicas
    first, second = spawn(), spawn()
    wait_for(lambda: first.leads() or second.leads(), timeout=30, what="a leader")
    leader, standby = (first, second) if first.leads() else (second, first)
    wait_for(lambda: leader.samples_taken() >= 5, timeout=30, what="the leader sampling")
    assert standby.samples_taken() == 0 and not standby.leads()

    leader.stop(signal.SIGKILL)  # a crash: the lock is not released, it has to expire
    killed_at = time.time()
    leader_samples = leader.samples_taken()
    assert standby.samples_taken() == 0, "the standby sampled while the leader held the lock"
    wait_for(standby.leads, timeout=LOCK_TTL * 3 + 10, interval=0.1, what="the standby to lead")
    takeover = time.time() - killed_at
    wait_for(lambda: standby.samples_taken() >= 5, timeout=30, what="the new leader sampling")
    standby.stop(signal.SIGTERM)
    standby_samples = standby.samples_taken()

    engine = db.make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            times = sorted(
                row.sampled_at.timestamp()
                for row in connection.execute(
                    select(QueueSample.sampled_at).where(QueueSample.queue == queue)
                )
            )
    finally:
        engine.dispose()
    print(f"leader {leader_samples} samples, standby {standby_samples}, "
          f"takeover {takeover:.2f} s after SIGKILL, {len(times)} rows")  # fmt: skip
    assert len(set(times)) == len(times), "two rows for one sample time"
    before = [t for t in times if t <= killed_at]
    after = [t for t in times if t > killed_at]
    # The leader's rows all precede the kill, the standby's all follow it: no interval sampled
    # by both replicas. The sampler logs after its commit, so a SIGKILL between the two leaves
    # the leader one row more than it logged; never fewer, never two more.
    assert leader_samples <= len(before) <= leader_samples + 1, (leader_samples, before)
    assert len(after) == standby_samples, (standby_samples, after)
