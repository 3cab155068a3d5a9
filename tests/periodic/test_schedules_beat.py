"""Schedules end to end: a real `celery beat` sends on a short schedule, a real worker runs it,
the console watches the runs; beat killed makes every schedule miss: one alert, not one per
schedule, and the missed runs counted. Run now sends the entry's own args to its queue."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane import db
from controlplane.config import Settings
from controlplane.fleet.view import fleet_view
from controlplane.models import Action, Task
from controlplane.periodic.views import list_schedules
from controlplane.periodic.watch import watch_schedules
from controlplane.processes.ingest import start_ingester
from controlplane.services import Services, build_services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user, csrf_token_of, log_in, wait_for
from tests.periodic.conftest import Beat


@pytest.fixture
def beat_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, schedule_grace_min_seconds=1.5)


@pytest.fixture
def services(beat_settings: Settings) -> Iterator[Services]:
    built = build_services(beat_settings)
    db.upgrade(built.engine)
    yield built
    built.close()


def runs(services: Services, name: str, state: str = "SUCCESS") -> list[Task]:
    with services.transaction() as session:
        return list(session.scalars(select(Task).where(Task.name == name, Task.state == state)))


def test_beat_runs_are_watched_and_beat_killed_is_one_missed_alert(
    services: Services, beat: Callable[[dict[str, dict[str, Any]]], Beat],
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"beat-{unique}"
    worker_factory((queue,))
    started = beat({
        "tick": {"task": "worker_tasks.tasks.add", "schedule": 2.0, "args": (2, 3),
                 "options": {"queue": queue}},
        "tock": {"task": "worker_tasks.tasks.total", "schedule": 3.0, "args": ([1, 2],),
                 "options": {"queue": queue}},
    })  # fmt: skip
    services = dataclasses.replace(services)
    services.settings = dataclasses.replace(services.settings, celery_app=f"{started.module}:app")
    ingester = start_ingester(services)
    try:
        watch_schedules(services)  # the console starts watching before the runs arrive
        wait_for(
            lambda: len(runs(services, "worker_tasks.tasks.add")) >= 3
            and len(runs(services, "worker_tasks.tasks.total")) >= 2,
            timeout=40, what=f"beat's runs\n{started.log()[-2000:]}",
        )  # fmt: skip
        watch_schedules(services)
        seen = {s.name: s for s in list_schedules(services)}
        assert set(seen) == {"tick", "tock"}
        tick = seen["tick"]
        assert (tick.source, tick.words, tick.task) == ("celery_app", "every 2 seconds",
                                                        "worker_tasks.tasks.add")  # fmt: skip
        assert tick.last_run is not None
        assert tick.last_run.state in ("SUCCESS", "STARTED", "RECEIVED", "PENDING")
        assert {slot.outcome for slot in tick.strip} & {"on_time", "running"}
        assert tick.next_due_at is not None and tick.can_run_now
        assert fleet_alerts(services) == []

        started.kill()

        def both_missed() -> bool:
            watch_schedules(services)
            return all(s.state == "missed" for s in list_schedules(services))

        wait_for(both_missed, timeout=30, what="every schedule to miss once beat is gone")
        alerts = fleet_alerts(services)
        assert [(a.alert, a.subject) for a in alerts] == [("missed_periodic_run", "beat")]
        assert "is celery beat running" in alerts[0].message
        missed = {s.name: s.missed_runs for s in list_schedules(services)}
        assert missed["tick"] >= 1 and missed["tock"] >= 1

        app = create_app(services, {"TESTING": True})
        client = app.test_client()
        add_user(services, f"op-{unique}", "operator")
        log_in(client, f"op-{unique}")
        scraped = client.get("/metrics").get_data(as_text=True)
        assert f'controlplane_schedule_missed_runs_total{{schedule="tick"}} {missed["tick"]}' in (
            scraped
        )
        assert 'controlplane_schedule_last_success_timestamp_seconds{schedule="tick"}' in scraped
        assert 'controlplane_alerts_firing{alert="missed_periodic_run"} 1' in scraped
        run_now_and_see_one_schedule_recover(client, services, tick.id, queue)
    finally:
        ingester.stop()


def fleet_alerts(services: Services) -> list[Any]:
    return [a for a in fleet_view(services).alerts if a.alert == "missed_periodic_run"]


def run_now_and_see_one_schedule_recover(
    client: FlaskClient, services: Services, tick_id: int, queue: str
) -> None:
    page = client.get("/schedules").get_data(as_text=True)
    assert 'data-schedule="tick"' in page and "every 2 seconds" in page
    response = client.post(f"/schedules/{tick_id}/run", data={"csrf_token": csrf_token_of(page)})
    assert response.status_code == 303
    with services.transaction() as session:
        action = session.scalars(
            select(Action).where(Action.action == "schedule_run_now")
        ).one()  # fmt: skip
    assert action.outcome == "ok" and action.actor.startswith("op-")
    before = len(runs(services, "worker_tasks.tasks.add"))
    wait_for(lambda: len(runs(services, "worker_tasks.tasks.add")) == before + 1, timeout=30,
             what="the Run now task to run")  # fmt: skip
    newest = max(runs(services, "worker_tasks.tasks.add"), key=lambda t: t.first_seen_at)
    assert newest.queue == queue and list(ast.literal_eval(newest.args or "")) == [2, 3]
    assert newest.result == "5"
    watch_schedules(services)
    # tick ran (by hand): it no longer misses; tock alone still does: one alert for tock
    assert [(a.subject) for a in fleet_alerts(services)] == ["tock"]
