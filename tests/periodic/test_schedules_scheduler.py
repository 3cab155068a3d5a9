"""`controlplane scheduler` watches the schedules of CONTROLPLANE_CELERY_APP: the opt-in import
of the fleet's app by its environment variable, and the leader's job writing what it found."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis, die_with_parent
from controlplane.models import Schedule
from tests.conftest import ROOT, wait_for
from tests.periodic.conftest import write_app


def test_the_leading_scheduler_reads_the_apps_beat_schedule(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    module = write_app(tmp_path, redis_server.url, {
        "hourly-digest": {"task": "proj.digest", "schedule": 3600.0, "args": ("daily",)},
    })  # fmt: skip
    url = f"sqlite:///{tmp_path / 'cp.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env.update(
        PYTHONPATH=os.pathsep.join((str(tmp_path), str(ROOT))),
        CONTROLPLANE_BROKER_URL=redis_server.url, CONTROLPLANE_DATABASE_URL=url,
        CONTROLPLANE_SAMPLE_INTERVAL="0.3", CONTROLPLANE_INSPECT_TIMEOUT="0.3",
        CONTROLPLANE_CELERY_APP=f"{module}:app", CONTROLPLANE_QUEUES="cp-sched-watch",
    )  # fmt: skip
    log_path = tmp_path / "scheduler.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "controlplane.cli", "scheduler"], env=env, cwd=str(ROOT),
            stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
        )  # fmt: skip
    try:

        def watched() -> list[Schedule]:
            with db.session_scope(db.make_session_factory(engine)) as session:
                rows = list(session.scalars(select(Schedule)))
                session.expunge_all()
                return rows

        rows = wait_for(watched, timeout=30, what=f"the watch\n{log_path.read_text()[-2000:]}")
        [row] = rows
        assert (row.source, row.name, row.task, row.args) == (
            "celery_app", "hourly-digest", "proj.digest", '["daily"]'
        )  # fmt: skip
        assert row.next_due_at is not None and row.checked_at is not None
    finally:
        process.terminate()
        process.wait(15)
        engine.dispose()
