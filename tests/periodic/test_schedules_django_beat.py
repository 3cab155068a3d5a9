"""django-celery-beat as a source: its real tables (Django's migrations, rows made through its
models), run by a real `celery beat -S django_celery_beat.schedulers:DatabaseScheduler`, read
by the console over SQL and watched."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.models import Action, Schedule, Task
from controlplane.periodic.django_beat import connect_args
from controlplane.periodic.run_now import run_now
from controlplane.periodic.watch import watch_schedules
from controlplane.services import Services
from tests.conftest import ROOT, WorkerProcess, wait_for
from tests.periodic.conftest import start_beat, watched_after_runs

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
        found = watched_after_runs(services, beat, django_beat_url=f"sqlite:///{database}")
        # not the disabled one, not the one-off; beat itself added Celery's backend_cleanup
        assert set(found) == {"ping", "nightly", "celery.backend_cleanup"}
        ping, nightly = found["ping"], found["nightly"]
        assert (ping.source, ping.words, ping.args) == ("django_celery_beat", "every 2 seconds",
                                                        [4, 4])  # fmt: skip
        assert ping.options == {"queue": queue} and ping.last_run is not None
        assert nightly.words == "At 02:30 (Europe/Paris)" and nightly.args == [[1, 2]]
        assert nightly.next_due_at is not None and nightly.next_due_at.hour in (0, 1)  # UTC
        # Run now works for its entries too: its args and queue, run by the worker
        sent = run_now(services, "tester", ping.id)
        assert sent.ok, sent.body
        assert (sent.body["args"], sent.body["options"]) == ([4, 4], {"queue": queue})
        wait_for(lambda: _state(services, sent.body["task_id"]) == "SUCCESS", timeout=30,
                 what="the run-now task to succeed")  # fmt: skip
    finally:
        beat.kill()


def _state(services: Services, task_id: str) -> str | None:
    with services.transaction() as session:
        return session.scalar(select(Task.state).where(Task.task_id == task_id))


def _fleet_database(tmp_path: Path, unique: str) -> Path:
    database = tmp_path / "fleet.sqlite3"
    subprocess.run([sys.executable, str(SITE), str(database), "setup", f"djbeat-{unique}"],
                   check=True, cwd=str(ROOT), timeout=120)  # fmt: skip
    return database


def _ping(database: Path) -> tuple[bool, str | None]:
    """(enabled, DatabaseScheduler's change stamp) read back with SQL."""
    with sqlite3.connect(database) as connection:
        enabled = connection.execute(
            "SELECT enabled FROM django_celery_beat_periodictask WHERE name = 'ping'"
        ).fetchone()[0]
        stamp = connection.execute(
            "SELECT last_update FROM django_celery_beat_periodictasks WHERE ident = 1"
        ).fetchone()
    return bool(enabled), None if stamp is None else str(stamp[0])


def _ping_id(services: Services, database: Path, writable: bool) -> int:
    services.settings = dataclasses.replace(services.settings,
                                            django_beat_url=f"sqlite:///{database}",
                                            django_beat_writable=writable)  # fmt: skip
    watch_schedules(services)
    with services.transaction() as session:
        found = session.scalar(select(Schedule.id).where(Schedule.key == "django_celery_beat:ping"))
    assert found is not None
    return int(found)


def _actions(services: Services, target: str) -> list[tuple[str, str, str]]:
    with services.transaction() as session:
        rows = session.execute(select(Action.actor, Action.action, Action.outcome)
                               .where(Action.target == target)).all()  # fmt: skip
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_an_admin_disables_a_django_beat_entry_when_writable(
    services: Services, client: FlaskClient, token_for: Callable[[str], str],
    client_as: Callable[[str], FlaskClient],
    tmp_path: Path, unique: str,
) -> None:  # fmt: skip
    pytest.importorskip("django_celery_beat")
    database = _fleet_database(tmp_path, unique)
    schedule_id = _ping_id(services, database, writable=True)
    before = _ping(database)
    assert before[0] is True
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    assert client.post(f"/api/v1/schedules/{schedule_id}/disable", headers=operator
                       ).status_code == 403  # fmt: skip
    assert _ping(database) == before

    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    answer = client.post(f"/api/v1/schedules/{schedule_id}/disable", headers=admin)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["enabled"] is False
    enabled, stamp = _ping(database)
    assert enabled is False and stamp is not None and stamp != before[1]
    # what DatabaseScheduler reads to notice the change: Django parses our stamp, later than before
    check = (f"import sys; sys.path.insert(0, {str(SITE.parent)!r}); import django_site; "
             f"django_site.configure({str(database)!r}); "
             "from django_celery_beat.models import PeriodicTask, PeriodicTasks; "
             "print(PeriodicTasks.last_change().isoformat(), "
             "PeriodicTask.objects.get(name='ping').enabled)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", check], check=True, capture_output=True,
                         text=True, cwd=str(ROOT), timeout=60).stdout.split()  # fmt: skip
    assert out[1] == "False" and out[0].startswith(stamp[:10])
    actions = _actions(services, f"schedule:{schedule_id}")
    assert [(a, o) for _, a, o in actions] == [("schedule_disable", "ok")]
    assert actions[0][0].startswith("api-admin-")

    # the page lists the disabled entries (not watched, no id) with Enable for admins
    page_admin = client_as("admin")
    page = page_admin.get("/schedules").get_data(as_text=True)
    assert 'data-disabled="ping"' in page and 'data-disabled="off"' in page
    form = {"csrf_token": page_admin.csrf_token, "name": "ping", "enabled": "true"}  # type: ignore[attr-defined]
    assert page_admin.post("/schedules/django-beat/enabled", data=form).status_code == 303
    assert _ping(database)[0] is True
    assert client.post(f"/api/v1/schedules/{schedule_id}/enable", headers=admin).status_code == 200
    assert [a for _, a, o in _actions(services, "django_celery_beat:ping") if o == "ok"] == [
        "schedule_enable"
    ]


def test_django_beat_entries_stay_read_only_unless_the_setting_allows(
    services: Services, client: FlaskClient, token_for: Callable[[str], str],
    client_as: Callable[[str], FlaskClient], tmp_path: Path, unique: str,
) -> None:  # fmt: skip
    pytest.importorskip("django_celery_beat")
    database = _fleet_database(tmp_path, unique)
    schedule_id = _ping_id(services, database, writable=False)
    before = _ping(database)
    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    answer = client.post(f"/api/v1/schedules/{schedule_id}/disable", headers=admin)
    assert answer.status_code == 409
    assert "CONTROLPLANE_DJANGO_BEAT_WRITABLE" in answer.get_json()["error"]
    assert _ping(database) == before  # nothing written
    assert [(a, o) for _, a, o in _actions(services, f"schedule:{schedule_id}")] == [
        ("schedule_disable", "refused")
    ]
    page = client_as("admin").get("/schedules").get_data(as_text=True)
    assert 'data-schedule="ping"' in page and "/enabled" not in page  # no button
    services.settings = dataclasses.replace(services.settings, django_beat_writable=True)
    page = client_as("admin").get("/schedules").get_data(as_text=True)
    assert f"/schedules/{schedule_id}/enabled" in page


def test_the_deadline_keeps_the_urls_own_postgresql_options() -> None:
    url = "postgresql+psycopg://fleet@db/app?options=-csearch_path%3Dbeat"
    assert connect_args(url)["options"] == "-csearch_path=beat -c statement_timeout=5000"
    assert connect_args("postgresql://fleet@db/app")["options"] == "-c statement_timeout=5000"
