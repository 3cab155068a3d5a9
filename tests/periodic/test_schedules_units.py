"""Schedules without beat: Celery's schedule classes in words and due times, the run strip,
observed schedules recognised from history, Run now refused without complete arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery.schedules import crontab

from controlplane.config import Settings
from controlplane.models import Schedule, Task
from controlplane.periodic.run_now import run_now
from controlplane.periodic.runs import Run, timeline
from controlplane.periodic.spec import Spec, from_celery, in_words, next_due
from controlplane.periodic.views import list_schedules
from controlplane.periodic.watch import watch_schedules
from controlplane.services import Services

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SETTINGS = Settings(schedule_grace_min_seconds=60)


def test_schedules_are_celerys_own_in_words_and_due_times() -> None:
    daily = from_celery(crontab(minute=0, hour=3))
    assert in_words(daily) == "At 03:00 (UTC)"
    assert next_due(daily, NOW) == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    every = from_celery(300.0)
    assert in_words(every) == "every 5 minutes"
    assert next_due(every, NOW) == NOW + timedelta(minutes=5)
    assert in_words(from_celery(timedelta(hours=1))) == "every hour"
    assert Spec.from_json(daily.to_json()) == daily
    paris = from_celery(crontab(minute=30, hour=2), tz="Europe/Paris")  # the app's timezone
    assert next_due(paris, NOW) == datetime(2026, 1, 2, 1, 30, tzinfo=UTC)  # CET is UTC+1


def run(minutes: float, state: str = "SUCCESS", runtime: float = 1.0) -> Run:
    at = NOW - timedelta(minutes=minutes)
    return Run(f"t{minutes}", at, state, at, runtime)


def test_the_strip_says_on_time_late_missed_failed_and_the_grace_is_ten_percent() -> None:
    spec = from_celery(600.0)  # every 10 minutes: grace 60 s (10% is 60 s, the minimum)
    runs = [run(60), run(50), run(38.5), run(30, "FAILURE"), run(10)]  # 40 and 20 missing
    found = timeline(spec, runs, NOW, SETTINGS, NOW - timedelta(hours=2))
    assert [s.outcome for s in found.slots] == [
        "on_time", "on_time", "late", "failed", "missed", "on_time"
    ]  # fmt: skip
    assert found.next_due_at == NOW and found.missed_since is None
    later = timeline(spec, runs, NOW + timedelta(minutes=11.5), SETTINGS, NOW)
    assert later.slots[-1].outcome == "missed" and later.missed_since == NOW
    slow = [run(40, runtime=1.0), run(30, runtime=1.2), run(20, runtime=0.9), run(10, runtime=9)]
    assert timeline(spec, slow, NOW, SETTINGS, NOW).slots[-1].outcome == "slow"


def _sent(services: Services, task_id: str, name: str, at: datetime, **extra: object) -> None:
    with services.transaction() as session:
        session.add(Task(task_id=task_id, name=name, state="SUCCESS", first_seen_at=at,
                         updated_at=at, queue="reports", **extra))  # fmt: skip


def test_a_task_sent_at_a_regular_pace_is_an_observed_schedule(services: Services) -> None:
    start = datetime.now(UTC) - timedelta(minutes=10)
    for n in range(5):  # every 120 s, give or take a second
        at = start + timedelta(seconds=120 * n + (0.4 if n % 2 else 0))
        _sent(services, f"rep-{n}", "proj.report", at, args="[7]", kwargs="{'fmt': 'pdf'}")
    for n in range(5):  # irregular: not a schedule
        _sent(services, f"adhoc-{n}", "proj.adhoc", start + timedelta(seconds=n * n * 30))
    for n in range(5):  # regular, but stopped three days ago: no longer a schedule
        _sent(services, f"old-{n}", "proj.old", start - timedelta(days=3, seconds=-60 * n))
    for n in range(5):  # regular, but children of another task: not beat's
        _sent(services, f"child-{n}", "proj.child", start + timedelta(seconds=60 * n),
              parent_id="p")  # fmt: skip
    watch_schedules(services)
    [observed] = list_schedules(services)
    assert (observed.source, observed.task, observed.words) == (
        "inferred", "proj.report", "every 2 minutes"
    )  # fmt: skip
    assert observed.reason and "last 4 sends came every 119.6 s" in observed.reason
    assert observed.args == [7] and observed.kwargs == {"fmt": "pdf"} and observed.can_run_now


def test_run_now_is_refused_when_the_arguments_are_not_complete(services: Services) -> None:
    with services.transaction() as session:
        row = Schedule(key="inferred:x", source="inferred", name="x", task="proj.x",
                       spec=from_celery(60.0).to_json(), args=None, kwargs=None, options="{}",
                       args_complete=False, first_seen_at=NOW, seen_at=NOW, state="waiting",
                       missed_runs=0)  # fmt: skip
        session.add(row)
        session.flush()
        schedule_id = row.id
    result = run_now(services, "alice", schedule_id)
    assert result.status == 400 and "not known complete" in result.body["error"]
