"""Row 6 of FAULTS.md: the event ingester (`controlplane events`) is killed, or stopped, while
a real worker runs the probe tasks, and started again. The missed span is recorded as a gap,
and reconciliation (inspect + result backend) gives every task its terminal state, including
those that started and ended while nobody watched.

The matrix says a 60 s stop; the suite keeps each test under a minute, so the ingester stays
down while at least a dozen tasks run (a few seconds): what is missed, not how long, matters.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from controlplane.control.tasks import trigger
from controlplane.events.store import to_epoch
from controlplane.models import EventGap
from controlplane.models import Ingester as IngesterRun
from controlplane.services import Services
from tests.conftest import ROOT, WorkerProcess, wait_for
from tests.faults import cli
from tests.faults.conftest import FaultRedis, Ledger, task_row, wait_states

TASKS = 50
SECONDS = 0.2  # each probe task's run: 50 of them keep two pool processes busy for ~5 s
RUN_UNSEEN = 12  # tasks that must end while no ingester runs


def ended_within(ground_truth: Path, since: float, until: float) -> set[str]:
    """Ids that started and ended between `since` and `until` (the probe's own clock)."""
    started: dict[str, float] = {}
    inside: set[str] = set()
    for line in ground_truth.read_text().splitlines() if ground_truth.exists() else []:
        run = json.loads(line)
        if run["event"] == "start":
            started[run["id"]] = run["at"]
        elif since < started.get(run["id"], 0.0) and run["at"] < until:
            inside.add(run["id"])
    return inside


def ingester_runs(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(IngesterRun)) or 0)


def restart_gaps(engine: Engine) -> list[tuple[float, float | None, str]]:
    query = select(EventGap.started_at, EventGap.ended_at, EventGap.reason).where(
        EventGap.source == "restart"
    )
    with engine.connect() as connection:
        return [(to_epoch(s) or 0.0, to_epoch(e), r) for s, e, r in connection.execute(query)]


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_row6_an_ingester_stopped_while_tasks_run_records_the_gap_and_reconciles(
    stop_signal: signal.Signals,
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    services = console_factory(fault_redis.url)
    queue = services.settings.queues[0]
    env = cli.cli_env(broker_url=fault_redis.url, database_url=services.settings.database_url,
                      inspect_timeout=1)  # fmt: skip
    log = open(tmp_path / "ingester.log", "ab")  # noqa: SIM115 - closed at the end
    ingesters: list[subprocess.Popen[bytes]] = []

    def start_ingester() -> subprocess.Popen[bytes]:
        ingesters.append(cli.start("events", cwd=ROOT, env=env, log=log))
        return ingesters[-1]

    try:
        first = start_ingester()
        wait_for(lambda: ingester_runs(services.engine) == 1, timeout=30, what="the ingester")
        probe_workers(fault_redis.url, (queue,), concurrency=2)
        payload = {"name": "faults.record", "queue": queue, "kwargs": {"seconds": SECONDS}}
        for _ in range(TASKS):
            sent = trigger(services, "tester", payload)
            assert sent.status == 202, sent.body
            ledger.triggered.add(sent.body["task_id"])

        def seen_succeed() -> bool:
            rows = [task_row(services, task_id) for task_id in ledger.triggered]
            return sum(row is not None and row.state == "SUCCESS" for row in rows) >= 3

        wait_for(seen_succeed, timeout=30, what="the ingester to see some tasks succeed")
        first.send_signal(stop_signal)
        assert first.wait(30) in (0, -signal.SIGKILL), "the ingester did not stop cleanly"
        stopped_at = time.time()
        wait_for(lambda: len(ended_within(ledger.ground_truth, stopped_at, time.time()))
                 >= RUN_UNSEEN, timeout=30, what=f"{RUN_UNSEEN} tasks to run unseen")  # fmt: skip
        restarted_at = time.time()
        start_ingester()

        ledger.wait_ended(ledger.triggered, timeout=60)
        unseen = ended_within(ledger.ground_truth, stopped_at, restarted_at)
        assert len(unseen) >= RUN_UNSEEN, "the ingester's stop hid nothing: no fault injected"
        gaps = wait_for(lambda: restart_gaps(services.engine), timeout=30, what="the gap")
        assert len(gaps) == 1, gaps
        gap_start, gap_end, reason = gaps[0]
        assert "no ingester was running" in reason, reason
        assert gap_start <= stopped_at and (gap_end is None or gap_end >= restarted_at), gaps
        # every task terminal: those run unseen from the result backend (reconciliation)
        wait_states(services, ledger.triggered, "SUCCESS", timeout=30)
        print(f"row 6: {len(unseen)} of {TASKS} tasks started and ended while no ingester ran")
    finally:
        for process in ingesters:
            if process.poll() is None:
                cli.interrupt(process, grace=30)
        log.close()
    assert all(process.returncode == 0 for process in ingesters[1:]), "a restarted ingester failed"
    ledger.tally(services.engine).assert_clean()
