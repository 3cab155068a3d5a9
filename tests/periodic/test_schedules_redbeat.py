"""RedBeat as a source: an entry created through RedBeat's own API (no beat_schedule), run by
a real `celery beat -S redbeat.RedBeatScheduler`, read from its Redis keys and watched."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import schedule
from sqlalchemy import func, select

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.models import Task
from controlplane.periodic.views import list_schedules
from controlplane.periodic.watch import watch_schedules
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for
from tests.periodic.conftest import start_beat, write_app


def test_a_redbeat_entry_is_read_from_redis_and_its_runs_watched(
    services: Services, ingesting: object, redis_server: EmbeddedRedis, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    redbeat = pytest.importorskip("redbeat")
    queue = f"redbeat-{unique}"
    prefix = f"rb-{unique}:"
    worker_factory((queue,))
    module = write_app(tmp_path, redis_server.url, {}, redbeat_redis_url=redis_server.url,
                       redbeat_key_prefix=prefix, beat_scheduler="redbeat.RedBeatScheduler",
                       redbeat_lock_timeout=5)  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    app = importlib.import_module(module).app
    redbeat.RedBeatSchedulerEntry(
        "cleanup", "worker_tasks.tasks.add", schedule(timedelta(seconds=2)), args=(1, 1),
        options={"queue": queue}, app=app,
    ).save()  # fmt: skip
    beat = start_beat(module, tmp_path, "-S", "redbeat.RedBeatScheduler")
    try:
        services.settings = dataclasses.replace(
            services.settings, redbeat_url=redis_server.url, redbeat_key_prefix=prefix,
            schedule_grace_min_seconds=1.5,
        )  # fmt: skip

        def runs() -> int:
            with services.transaction() as session:
                query = select(func.count()).where(Task.name == "worker_tasks.tasks.add",
                                                   Task.state == "SUCCESS")  # fmt: skip
                return int(session.scalar(query) or 0)

        wait_for(lambda: runs() >= 2, timeout=40, what=f"RedBeat's runs\n{beat.log()[-1500:]}")
        watch_schedules(services)
        found = {s.name: s for s in list_schedules(services)}
        assert set(found) <= {"cleanup", "celery.backend_cleanup"}  # beat adds Celery's own
        watched = found["cleanup"]
        assert (watched.source, watched.name, watched.words) == ("redbeat", "cleanup",
                                                                 "every 2 seconds")  # fmt: skip
        assert watched.args == [1, 1] and watched.options == {"queue": queue}
        assert watched.last_run is not None and watched.strip
    finally:
        beat.kill()
