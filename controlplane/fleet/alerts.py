"""The alert conditions: one definition behind the dashboard banner, GET /api/v1/alerts, the
`controlplane_alerts_firing{alert=...}` gauge and the rules built on top of them.

A condition is data: a stable `name` (the API's `alert` key and the metric's label), a title,
a severity, the settings that are its thresholds, the rule of deploy/prometheus/alerts.yml
that says the same thing over the metrics, and `check(facts, settings)`, a pure function from
what the console knows about the fleet (`Facts`) to the instances that hold now, each with
its subject, its number and a link to the page that shows it. "All clear" means no
condition holds; an acknowledged instance still holds (it is shown muted, with who and when).

Everything is read from the database and the latest sample, like the rest of `fleet/`:
evaluating the conditions never asks the broker or the workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import le
from typing import Literal
from urllib.parse import quote, urlencode

from sqlalchemy import Select, delete, func, select, tuple_
from sqlalchemy.orm import Session

from controlplane.broker import QueueState
from controlplane.clock import age_seconds, as_utc
from controlplane.config import Settings
from controlplane.failures.groups import AlertingGroup, alerting_groups
from controlplane.fleet.backlog_history import SampleBacklogs
from controlplane.fleet.health import (
    IngestGap,
    StuckTask,
    WorkerHealth,
    format_age,
    recent_gaps,
    stuck_tasks,
)
from controlplane.fleet.sample import BrokerState, FleetSample, stale_after
from controlplane.models import AlertAck, Task
from controlplane.periodic.views import ScheduleFacts, schedule_facts
from controlplane.services import Services

Severity = Literal["critical", "warning"]
ACK_GRACE_SECONDS = 30.0  # an ack younger than this survives one evaluation that missed it


@dataclass(frozen=True)
class Facts:
    """What the conditions look at: one fleet view's data, plus a little history."""

    now: datetime
    broker: BrokerState
    sampled_at: datetime | None
    stale: bool  # no fresh sample: nobody samples the broker
    queues: Sequence[QueueState] = ()
    workers: Sequence[WorkerHealth] = ()
    stuck: Sequence[StuckTask] = ()
    gaps: Sequence[IngestGap] = ()
    # backlog (ready + reserved) of each queue in the last samples, oldest first
    backlog_history: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # per queue: (succeeded, failed) among the tasks that finished within the failure window
    outcomes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # failure groups first seen, or back after being resolved, recently (failures/groups.py)
    failure_groups: Sequence[AlertingGroup] = ()
    # schedules whose latest run was missed, and the newest run of any (periodic/views.py)
    schedules: ScheduleFacts = field(default_factory=ScheduleFacts)


@dataclass(frozen=True)
class Instance:
    """One subject for which a condition holds, as the condition's check finds it."""

    subject: str  # the queue, worker hostname, task id, "broker"...
    value: float  # the number that crossed the threshold
    unit: str  # "s", "tasks", "ratio"
    threshold: float | None
    message: str  # a sentence with the number and its unit
    link: str  # the console page that shows it (a path)
    since: datetime | None = None
    # what rules (alerting/) match their queue and task-name globs against, when known
    queue: str | None = None
    task_name: str | None = None


@dataclass(frozen=True)
class Firing:
    """An instance with its condition's name, title and severity, and its acknowledgement."""

    alert: str
    title: str
    severity: Severity
    subject: str
    value: float
    unit: str
    threshold: float | None
    message: str
    link: str
    since: datetime | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    queue: str | None = None
    task_name: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acked_by is not None

    @property
    def kind(self) -> str:
        """The older name of `alert`."""
        return self.alert

    @property
    def key(self) -> tuple[str, str]:
        return self.alert, self.subject

    def as_dict(self) -> dict[str, object]:
        """The API's view (GET /api/v1/alerts); `kind` is the older name of `alert`."""
        return {
            "alert": self.alert,
            "kind": self.alert,
            "title": self.title,
            "severity": self.severity,
            "subject": self.subject,
            "value": round(self.value, 3),
            "unit": self.unit,
            "threshold": self.threshold,
            "message": self.message,
            "link": self.link,
            "since": _iso(self.since),
            "acknowledged": None
            if self.acked_by is None
            else {"by": self.acked_by, "at": _iso(self.acked_at)},
        }


Check = Callable[[Facts, Settings], Iterable[Instance]]


@dataclass(frozen=True)
class Condition:
    """One alert condition. Rules and channels (#18) select conditions by `name`."""

    name: str
    title: str
    severity: Severity
    summary: str  # what it means, in one sentence
    thresholds: tuple[str, ...]  # the Settings fields it reads
    prometheus_alert: str  # the rule in deploy/prometheus/alerts.yml that says the same
    check: Check

    def evaluate(self, facts: Facts, settings: Settings) -> list[Firing]:
        return [
            Firing(self.name, self.title, self.severity, i.subject, i.value, i.unit,
                   i.threshold, i.message, i.link, i.since, queue=i.queue,
                   task_name=i.task_name)
            for i in self.check(facts, settings)
        ]  # fmt: skip

    def as_dict(self, settings: Settings) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "severity": self.severity,
            "summary": self.summary,
            "thresholds": {name: getattr(settings, name) for name in self.thresholds},
            "prometheus_alert": self.prometheus_alert,
        }


# ---- links -------------------------------------------------------------------------------------


def queue_link(queue: str) -> str:
    return f"/queues#queue-{quote(queue, safe='')}"


def worker_link(hostname: str) -> str:
    return f"/workers#worker-{quote(hostname, safe='')}"


def task_link(task_id: str) -> str:
    return f"/tasks/{quote(task_id, safe='')}"


def tasks_link(**params: str) -> str:
    return "/tasks?" + urlencode(params)


# ---- the checks --------------------------------------------------------------------------------


def wait_target(settings: Settings, queue: str) -> float:
    """The queue's wait target: the wait the recommended workers keep tasks under."""
    override = settings.autoscale_override(queue)
    if override is not None and override.target_wait_seconds is not None:
        return override.target_wait_seconds
    return settings.autoscale_target_wait_seconds


def wait_targets(settings: Settings, queues: Iterable[str]) -> dict[str, float]:
    """`wait_target` of each queue (the global target for all when no queue overrides it)."""
    if not settings.autoscale_queues:
        return dict.fromkeys(queues, settings.autoscale_target_wait_seconds)
    return {queue: wait_target(settings, queue) for queue in queues}


def _broker_unreachable(facts: Facts, _settings: Settings) -> Iterable[Instance]:
    if facts.broker.reachable:
        return
    down = age_seconds(facts.broker.down_since, facts.now) or 0.0
    error = (facts.broker.error or "no answer")[:200]
    yield Instance(
        "broker", down, "s", None,
        f"the broker has not answered for {format_age(down)} ({error}): queue depths are "
        "from the last sample", "/queues", facts.broker.down_since,
    )  # fmt: skip


def _broker_restarted(facts: Facts, settings: Settings) -> Iterable[Instance]:
    """issue 16: a new broker run id (fleet/broker_restarts.py), for broker_restart_alert_hours."""
    restarted = facts.broker.restarted_at
    age = age_seconds(restarted, facts.now)
    if age is None or age > settings.broker_restart_alert_hours * 3600:
        return
    waiting = facts.broker.restart_waiting or 0
    yield Instance(
        "broker", waiting, "messages", None,
        f"broker restarted {format_age(age)} ago: {waiting} messages were waiting, possibly "
        "lost (queued tasks never seen again are marked UNKNOWN)", "/tasks?state=UNKNOWN",
        restarted,
    )  # fmt: skip


def _sampling_stopped(facts: Facts, settings: Settings) -> Iterable[Instance]:
    if not facts.broker.reachable or not facts.stale:
        return
    age = age_seconds(facts.sampled_at, facts.now)
    if age is None:
        message = "no queue sample yet: is a `controlplane scheduler` (or `up`) running?"
    else:
        message = f"the last queue sample is {format_age(age)} old: is a scheduler running?"
    yield Instance("sampler", age or 0.0, "s", None, message, "/queues", facts.sampled_at)


def _no_consumer(facts: Facts, _settings: Settings) -> Iterable[Instance]:
    for queue in facts.queues:
        if queue.no_consumer:
            yield Instance(
                queue.name, queue.ready, "tasks", 0,
                f"{queue.ready:,} task(s) ready and no worker consumes this queue",
                queue_link(queue.name), queue=queue.name,
            )  # fmt: skip


def _wait_over_target(facts: Facts, settings: Settings) -> Iterable[Instance]:
    for queue in facts.queues:
        if queue.pause is not None:
            continue  # paused on purpose: its tasks wait until someone resumes it
        waited = queue.waiting_seconds(facts.now)
        if waited is None:  # nothing waits: no target to look up (a scrape has 500 queues)
            continue
        target = wait_target(settings, queue.name)
        if waited > target:
            yield Instance(
                queue.name, waited, "s", target,
                f"the oldest of {queue.backlog:,} waiting task(s) has waited "
                f"{format_age(waited)} (target {format_age(target)})",
                queue_link(queue.name), queue.oldest_waiting_at, queue=queue.name,
            )  # fmt: skip


def _backlog_growing(facts: Facts, settings: Settings) -> Iterable[Instance]:
    samples = settings.alert_backlog_samples
    paused = {queue.name for queue in facts.queues if queue.pause is not None}
    for queue, history in sorted(facts.backlog_history.items()):
        if len(history) < samples or queue in paused:
            continue
        last = history[-samples:]
        # the cheap tests first, and the pairwise one in C: a scrape asks for 500 queues
        if (
            last[-1] > last[0]
            and last[-1] >= settings.alert_backlog_min
            and all(map(le, last, last[1:]))  # never went down
        ):
            yield Instance(
                queue, last[-1], "tasks", settings.alert_backlog_min,
                f"backlog {last[-1]:,}, up from {last[0]:,} over the last {samples} samples",
                queue_link(queue), queue=queue,
            )  # fmt: skip


def _failure_ratio(facts: Facts, settings: Settings) -> Iterable[Instance]:
    window = settings.alert_failure_window_seconds
    for queue, (succeeded, failed) in sorted(facts.outcomes.items()):
        finished = succeeded + failed
        ratio = failed / finished if finished else 0.0
        if failed >= settings.alert_failure_min and ratio > settings.alert_failure_ratio:
            yield Instance(
                queue, ratio, "ratio", settings.alert_failure_ratio,
                f"{ratio:.0%} of the {finished:,} task(s) finished in the last "
                f"{format_age(window)} failed ({failed:,} failed; threshold "
                f"{settings.alert_failure_ratio:.0%})",
                tasks_link(state="FAILURE", queue=queue), queue=queue,
            )  # fmt: skip


def _worker_lost(facts: Facts, settings: Settings) -> Iterable[Instance]:
    horizon = settings.lost_worker_alert_hours * 3600
    for worker in facts.workers:
        age = worker.heartbeat_age
        lost = worker.status == "offline" and not worker.shutdown
        if lost and age is not None and age <= horizon:
            yield Instance(
                worker.hostname, age, "s", None,
                f"no sign of life for {format_age(age)} (did not shut down cleanly)",
                worker_link(worker.hostname), worker.last_seen,
            )  # fmt: skip


def _worker_late(facts: Facts, _settings: Settings) -> Iterable[Instance]:
    for worker in facts.workers:
        if worker.status == "late":
            age = worker.heartbeat_age or 0.0
            yield Instance(
                worker.hostname, age, "s", None,
                f"last heartbeat {format_age(age)} ago (expected every "
                f"{format_age(worker.interval)})",
                worker_link(worker.hostname), worker.last_seen,
            )  # fmt: skip


def _task_stuck(facts: Facts, settings: Settings) -> Iterable[Instance]:
    for task in facts.stuck:
        if task.running_for <= settings.stuck_task_seconds:
            continue  # a rule's longer threshold (alerting/) over the facts read with the global
        where = f" on {task.worker}" if task.worker else ""
        yield Instance(
            task.task_id, task.running_for, "s", settings.stuck_task_seconds,
            f"{task.name or 'task'} STARTED {format_age(task.running_for)} ago{where} "
            f"(stuck after {format_age(settings.stuck_task_seconds)})",
            task_link(task.task_id), task.started_at, queue=task.queue, task_name=task.name,
        )  # fmt: skip


def gap_subject(gap: IngestGap) -> str:
    return f"{gap.source or 'ingester'} {gap.started_at:%Y-%m-%d %H:%M:%S}"


def _ingest_gap(facts: Facts, _settings: Settings) -> Iterable[Instance]:
    for gap in facts.gaps:
        span = "still open" if gap.ended_at is None else f"for {format_age(gap.duration)}"
        missed = gap.estimated_missed or 0
        about = f", about {missed:,} event(s) missed" if missed else ""
        until = gap.ended_at or facts.now
        yield Instance(
            gap_subject(gap), missed, "events", None,
            f"events were lost {format_age((facts.now - gap.started_at).total_seconds())} "
            f"ago, {span}{about} ({gap.reason[:200]}): task history in that span may be "
            "incomplete",
            tasks_link(since=_iso(gap.started_at) or "", until=_iso(until) or ""),
            gap.started_at,
        )  # fmt: skip


def _new_failure_group(facts: Facts, settings: Settings) -> Iterable[Instance]:
    for group in facts.failure_groups:
        how = "came back after being resolved" if group.state == "regression" else "new"
        yield Instance(
            f"failure group {group.id}", group.failures, "failures", None,
            f"{how}: {group.exception_type}: {group.message[:160]} in {group.task_name} "
            f"({group.failures:,} failure(s))",
            f"/failures/{group.id}", group.since, task_name=group.task_name,
        )  # fmt: skip


def _missed_periodic_run(facts: Facts, settings: Settings) -> Iterable[Instance]:
    """One instance per schedule that missed its run; when two or more missed and no schedule
    has run since the first miss, beat itself is down: one instance, not one per schedule."""
    missed = facts.schedules.missed
    if facts.schedules.beat_down:
        since = min(at for _, _, at in missed)
        age = (facts.now - since).total_seconds()
        yield Instance(
            "beat", len(missed), "schedules", None,
            f"{len(missed)} schedules have missed their runs and nothing was sent for "
            f"{format_age(age)}: is celery beat running?", "/schedules", since,
        )  # fmt: skip
        return
    for schedule_id, name, since in missed:
        age = (facts.now - since).total_seconds()
        yield Instance(
            name, age, "s", settings.schedule_grace_min_seconds,
            f"the run due {format_age(age)} ago did not start within its grace",
            f"/schedules#schedule-{schedule_id}", since,
        )  # fmt: skip


CONDITIONS: tuple[Condition, ...] = (
    Condition("broker_unreachable", "Broker unreachable", "critical",
              "The sampler cannot reach the broker: depths are stale.",
              (), "ControlplaneBrokerUnreachable", _broker_unreachable),
    Condition("sampling_stopped", "No fresh sample", "warning",
              "Nobody samples the broker (no scheduler running): depths are stale.",
              ("sample_interval",), "ControlplaneSamplingStopped", _sampling_stopped),
    Condition("queue_without_consumer", "Queue without consumer", "critical",
              "Tasks are ready in a queue no alive worker consumes: they never run.",
              (), "CeleryQueueNoConsumer", _no_consumer),
    Condition("worker_offline", "Worker lost", "critical",
              "A worker stopped without a clean shutdown (for lost_worker_alert_hours).",
              ("lost_worker_alert_hours",), "CeleryWorkerDown", _worker_lost),
    Condition("queue_wait_over_target", "Oldest wait over target", "warning",
              "The oldest task waiting in a queue (not paused) has waited longer than the "
              "queue's wait target (autoscale_target_wait_seconds, or the queue's override).",
              ("autoscale_target_wait_seconds",), "CeleryQueueWaitTooLong", _wait_over_target),
    Condition("backlog_growing", "Backlog growing", "warning",
              "A queue's backlog (not paused) grew over the last alert_backlog_samples samples.",
              ("alert_backlog_samples", "alert_backlog_min"), "CeleryQueueBacklogGrowing",
              _backlog_growing),
    Condition("failure_ratio", "Failure ratio high", "warning",
              "Too many of a queue's recently finished tasks failed.",
              ("alert_failure_ratio", "alert_failure_min", "alert_failure_window_seconds"),
              "CeleryTaskFailureRatioHigh", _failure_ratio),
    Condition("worker_late", "Worker late", "warning",
              "A worker missed two heartbeats.", (), "CeleryWorkerLate", _worker_late),
    Condition("task_stuck", "Task stuck", "warning",
              "A task has been STARTED for longer than stuck_task_seconds.",
              ("stuck_task_seconds",), "CeleryTaskStuck", _task_stuck),
    Condition("ingest_gap", "Events lost", "warning",
              "The event stream was cut: task history in that span may be incomplete "
              "(shown for gap_alert_hours).",
              ("gap_alert_hours",), "ControlplaneEventsLost", _ingest_gap),
    Condition("broker_restarted", "Broker restarted", "critical",
              "The broker restarted (a new run id): the messages waiting before may be lost "
              "(shown for broker_restart_alert_hours).",
              ("broker_restart_alert_hours",), "ControlplaneBrokerRestarted", _broker_restarted),
    Condition("new_failure_group", "New failure group", "warning",
              "Tasks fail with a cause not seen before, or one resolved earlier came back "
              "(a group stays new for failure_group_new_hours; resolve or ignore it).",
              ("failure_group_new_hours",), "ControlplaneNewFailureGroup", _new_failure_group),
    Condition("missed_periodic_run", "Missed periodic run", "warning",
              "A scheduled run did not start within its grace (schedule_grace_ratio of the "
              "period, at least schedule_grace_min_seconds); several missing with nothing "
              "sent since is one alert: beat is down.",
              ("schedule_grace_ratio", "schedule_grace_min_seconds"),
              "ControlplaneMissedPeriodicRun", _missed_periodic_run),
)  # fmt: skip
BY_NAME = {condition.name: condition for condition in CONDITIONS}


def evaluate(
    facts: Facts,
    settings: Settings,
    acks: Mapping[tuple[str, str], tuple[str, datetime]] | None = None,
    conditions: Sequence[Condition] = CONDITIONS,
) -> list[Firing]:
    """Every instance of every condition that holds, critical first, acknowledged last."""
    firing = [f for condition in conditions for f in condition.evaluate(facts, settings)]
    if acks:
        firing = [
            replace(f, acked_by=ack[0], acked_at=ack[1]) if (ack := acks.get(f.key)) else f
            for f in firing
        ]
    order = {condition.name: n for n, condition in enumerate(conditions)}
    return sorted(firing, key=lambda f: (f.acknowledged, f.severity != "critical", order[f.alert]))


def counts(firing: Iterable[Firing]) -> dict[str, int]:
    """Instances per condition, every condition present (the gauge's series)."""
    found = dict.fromkeys(BY_NAME, 0)
    for f in firing:
        found[f.alert] += 1
    return found


# ---- what the checks read, besides the fleet view ------------------------------------------


def backlog_history(
    session: Session,
    samples: int,
    queues: Iterable[str] | None = None,
    kept: SampleBacklogs | None = None,
) -> dict[str, tuple[int, ...]]:
    """Each queue's backlog in the last `samples` samples, oldest first (only `queues`, when
    given). A queue missing from one of them (not sampled then) gets the samples after that.
    `kept`: the process's samples already read (`services.state.backlogs`), else all are read.
    """
    return (kept or SampleBacklogs()).history(session, samples, queues)


def outcomes_query(since: datetime) -> Select[str, str, int]:
    """Tasks per queue and final state among those that finished since `since`."""
    queue = func.coalesce(Task.queue, "")  # an expression: see queue_rates.rates
    # The state as an expression too: with the bare column SQLite searches ix_tasks_state_time
    # for every SUCCESS and FAILURE row ever kept, instead of the window on ix_tasks_finished.
    finished = func.coalesce(Task.state, "").in_(("SUCCESS", "FAILURE"))
    return (
        select(queue, Task.state, func.count())
        .where(Task.finished_at >= since, finished)
        .group_by(queue, Task.state)
    )


def outcomes(session: Session, now: datetime, window: float) -> dict[str, tuple[int, int]]:
    """Per queue: (succeeded, failed) among the tasks that finished in the last `window` s."""
    query = outcomes_query(now - timedelta(seconds=window))
    found: dict[str, list[int]] = {}
    for name, state, count in session.connection().execute(query):
        if name:
            entry = found.setdefault(name, [0, 0])
            entry[0 if state == "SUCCESS" else 1] += int(count)
    return {name: (ok, failed) for name, (ok, failed) in found.items()}


def read_facts(
    services: Services,
    session: Session,
    now: datetime,
    sample: FleetSample,
    queues: Sequence[QueueState],
    workers: Sequence[WorkerHealth],
) -> Facts:
    """The facts behind the conditions, read in the caller's transaction.

    The failure counts scan the tasks that finished within the window, so each process
    reuses them for a tenth of the window, at most 30 s (`services.state.outcomes`).
    """
    settings = services.settings
    window = settings.alert_failure_window_seconds
    reuse = min(30.0, window / 10)
    age = age_seconds(sample.sampled_at, now)
    return Facts(
        now=now,
        broker=sample.broker,
        sampled_at=sample.sampled_at,
        stale=age is None or age > stale_after(settings.sample_interval),
        queues=queues,
        workers=workers,
        stuck=stuck_tasks(session, now, settings.stuck_task_seconds),
        gaps=recent_gaps(session, now, settings.gap_alert_hours),
        # only a queue holding at least the minimum now can have grown to it
        backlog_history=backlog_history(
            session,
            settings.alert_backlog_samples,
            [q.name for q in queues if q.backlog >= settings.alert_backlog_min],
            services.state.backlogs,
        ),
        outcomes=services.state.outcomes.get(
            lambda: outcomes(session, now, window), key=int(time.monotonic() // reuse)
        ),
        failure_groups=alerting_groups(session, now, settings.failure_group_new_hours),
        schedules=schedule_facts(session),
    )


def load_acks(session: Session) -> dict[tuple[str, str], tuple[str, datetime]]:
    acks: dict[tuple[str, str], tuple[str, datetime]] = {}
    for row in session.scalars(select(AlertAck)):
        at = as_utc(row.at)
        assert at is not None
        acks[(row.alert, row.subject)] = (row.actor, at)
    return acks


def clear_acks(session: Session, firing: Iterable[Firing], now: datetime) -> int:
    """Forget the acknowledgements of instances that stopped firing (the next one alerts).

    An ack younger than ACK_GRACE_SECONDS stays: the page it was given on may have seen the
    instance a moment before this evaluation stopped seeing it.
    """
    holding = {f.key for f in firing}
    cutoff = now - timedelta(seconds=ACK_GRACE_SECONDS)
    stale = [
        key
        for key, (_actor, at) in load_acks(session).items()
        if key not in holding and at < cutoff
    ]
    if not stale:
        return 0
    session.execute(delete(AlertAck).where(tuple_(AlertAck.alert, AlertAck.subject).in_(stale)))
    return len(stale)


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None
