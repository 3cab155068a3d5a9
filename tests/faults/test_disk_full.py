"""Row 23 (running) of FAULTS.md and issue 16 item 9: the disk under SQLite fills up while
events flow. Writes fail visibly (/readyz 503 naming the ingester and the sampler), what was
received is kept and written once space returns, and nothing is lost."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import text

from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, require, wait_for
from tests.faults.conftest import FaultRedis, Ledger, wait_states

DISK_MB = 8


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of a few MB: a disk that really fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount)],
        capture_output=True, text=True,
    )  # fmt: skip
    require(done.returncode == 0, f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write zeros until the disk is full; the filler file, to delete for space to return."""
    filler = disk / "filler"
    block = b"\0" * 65536
    with contextlib.suppress(OSError), open(filler, "wb") as out:
        while True:
            out.write(block)
            out.flush()
    return filler


def test_row23_a_full_disk_fails_writes_visibly_and_recovers_without_losing_events(
    small_disk: Path,
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
) -> None:
    services = console_factory(
        fault_redis.url, f"sqlite:///{small_disk / 'cp.db'}", sample_interval=0.5
    )
    queue = services.settings.queues[0]
    ingesters(services)
    scheduler = FleetScheduler(services).start()
    client = create_app(services, {"TESTING": True}).test_client()
    probe_workers(fault_redis.url, (queue,), concurrency=2)
    try:
        wait_for(lambda: client.get("/readyz").status_code == 200, what="/readyz 200 at first")
        with services.engine.connect() as connection:  # the WAL must grow for the next write
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        filler = fill(small_disk)

        fleet = Celery(broker=fault_redis.url, set_as_current=False)
        try:
            for _ in range(10):
                task_id = str(uuid.uuid4())
                fleet.send_task("faults.record", queue=queue, task_id=task_id)
                ledger.triggered.add(task_id)
        finally:
            fleet.close()
        ledger.wait_ended(ledger.triggered)

        def failing_visibly() -> dict[str, str] | None:
            response = client.get("/readyz")
            problems = response.get_json().get("problems", {})
            both = response.status_code == 503 and {"ingest", "sampler"} <= set(problems)
            return problems if both else None

        problems = wait_for(failing_visibly, timeout=30, what="/readyz 503 naming both writers")
        assert "full" in problems["ingest"], problems

        filler.unlink()  # space returns
        wait_states(services, ledger.triggered, "SUCCESS")
        wait_for(lambda: client.get("/readyz").status_code == 200, timeout=30,
                 what="/readyz 200 again")  # fmt: skip
    finally:
        scheduler.stop()
    ledger.tally(services.engine).assert_clean()
