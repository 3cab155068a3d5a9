"""django-celery-beat as a source: its real tables (Django's migrations, rows made through its
models), run by a real `celery beat -S django_celery_beat.schedulers:DatabaseScheduler`, read
by the console over SQL and watched."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.models import Task
from controlplane.periodic.views import list_schedules
from controlplane.periodic.watch import watch_schedules
from controlplane.services import Services
from tests.conftest import ROOT, WorkerProcess, wait_for
from tests.periodic.conftest import start_beat

SITE = ROOT / "tests" / "periodic" / "django_site.py"


def test_django_celery_beat_tasks_are_read_from_its_tables_and_watched(
    services: Services, ingesting: object, redis_server: EmbeddedRedis, tmp_path: Path,
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    pytest.importorskip("django_celery_beat")
    queue = f"djbeat-{unique}"
    database = tmp_path / "fleet.sqlite3"
    subprocess.run([sys.executable, str(SITE), str(database), "setup", queue], check=True,
                   cwd=str(ROOT), timeout=120)  # fmt: skip
    module = f"djbeatapp_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(SITE.parent)!r})
        import django_site
        django_site.configure({str(database)!r})
        from celery import Celery
        app = Celery("{module}", broker={redis_server.url!r})
        app.conf.update(task_send_sent_event=True, beat_max_loop_interval=1, timezone="UTC")
    """))  # fmt: skip
    worker_factory((queue,))
    beat = start_beat(module, tmp_path, "-S", "django_celery_beat.schedulers:DatabaseScheduler")
    try:
        services.settings = dataclasses.replace(
            services.settings, django_beat_url=f"sqlite:///{database}",
            schedule_grace_min_seconds=1.5,
        )  # fmt: skip

        def runs() -> int:
            with services.transaction() as session:
                query = select(func.count()).where(Task.name == "worker_tasks.tasks.add",
                                                   Task.state == "SUCCESS")  # fmt: skip
                return int(session.scalar(query) or 0)

        wait_for(lambda: runs() >= 2, timeout=60, what=f"beat's runs\n{beat.log()[-2000:]}")
        watch_schedules(services)
        found = {s.name: s for s in list_schedules(services)}
        # not the disabled one, not the one-off; beat itself added Celery's backend_cleanup
        assert set(found) == {"ping", "nightly", "celery.backend_cleanup"}
        ping, nightly = found["ping"], found["nightly"]
        assert (ping.source, ping.words, ping.args) == ("django_celery_beat", "every 2 seconds",
                                                        [4, 4])  # fmt: skip
        assert ping.options == {"queue": queue} and ping.last_run is not None
        assert nightly.words == "At 02:30 (Europe/Paris)" and nightly.args == [[1, 2]]
        assert nightly.next_due_at is not None and nightly.next_due_at.hour in (0, 1)  # UTC
    finally:
        beat.kill()
