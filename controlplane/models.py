"""The tables: task and worker history, queue samples, actions, revocations, audits, users.

Indexes follow the console's queries: tasks by state/name/queue/worker over time, keyset
pagination on (first_seen_at, task_id), actions by time and actor.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("viewer", "operator", "admin")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # issue 15 (safety-web, 0011): a session carries the generation it was made in; logout,
    # a password change and disabling bump it, which ends every session of the user at once
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # issue 15 (safety-web, 0011): tokens are named, may expire, and are revoked one by one
    name: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Task(Base):
    """One Celery task as seen through its events; timestamps are kept per transition."""

    __tablename__ = "tasks"

    task_id: Mapped[str] = mapped_column(String(155), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(255))
    routing_key: Mapped[str | None] = mapped_column(String(255))
    exchange: Mapped[str | None] = mapped_column(String(255))
    worker: Mapped[str | None] = mapped_column(String(255))
    args: Mapped[str | None] = mapped_column(Text)
    kwargs: Mapped[str | None] = mapped_column(Text)
    # True when args/kwargs were redacted or cut: such a task cannot be retried faithfully.
    args_incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[str | None] = mapped_column(Text)
    exception: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    eta: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    parent_id: Mapped[str | None] = mapped_column(String(155))
    root_id: Mapped[str | None] = mapped_column(String(155))
    retry_of: Mapped[str | None] = mapped_column(String(155))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retried_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    runtime: Mapped[float | None] = mapped_column(Float)
    queue_wait: Mapped[float | None] = mapped_column(Float)
    lost_reason: Mapped[str | None] = mapped_column(Text)
    # The event time that set `state` (events/merge.py orders RECEIVED/STARTED/RETRY by it).
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # attempts (issue 16.7, 17.7, 20.3; 0014_attempts): the task's receive/start/retry/end
    # entries with host, pid and time as JSON (events/attempts.py), and its canvas group id.
    attempts: Mapped[str | None] = mapped_column(Text)
    group_id: Mapped[str | None] = mapped_column(String(155))

    __table_args__ = (
        Index("ix_tasks_first_seen", "first_seen_at", "task_id"),
        Index("ix_tasks_state_time", "state", "first_seen_at"),
        Index("ix_tasks_name_time", "name", "first_seen_at"),
        # first_seen_at last: "oldest waiting task of a queue" is one index probe.
        Index("ix_tasks_queue_state", "queue", "state", "first_seen_at"),
        Index("ix_tasks_finished", "finished_at"),  # completions per queue per minute
        Index("ix_tasks_worker_time", "worker", "first_seen_at"),
        # Partial: the tasks running now, oldest start first (stuck tasks, 0019_pg_pages).
        # `state` leads so that SQLite, without statistics, prefers it to ix_tasks_state_time.
        Index(
            "ix_tasks_stuck",
            "state",
            "started_at",
            sqlite_where=text("state = 'STARTED'"),
            postgresql_where=text("state = 'STARTED'"),
        ),
        # Partial: most tasks have neither, and a full index of NULLs makes SQLite's ANALYZE
        # judge it useless, turning "children of X" into a scan of every row.
        Index(
            "ix_tasks_parent",
            "parent_id",
            sqlite_where=text("parent_id IS NOT NULL"),
            postgresql_where=text("parent_id IS NOT NULL"),
        ),
        Index(
            "ix_tasks_retry_of",
            "retry_of",
            sqlite_where=text("retry_of IS NOT NULL"),
            postgresql_where=text("retry_of IS NOT NULL"),
        ),
        # attempts: a group's members, for the workflow graph (0014_attempts).
        Index(
            "ix_tasks_group",
            "group_id",
            sqlite_where=text("group_id IS NOT NULL"),
            postgresql_where=text("group_id IS NOT NULL"),
        ),
        # A workflow's tasks share a root_id: the task page draws them all.
        Index(
            "ix_tasks_root",
            "root_id",
            sqlite_where=text("root_id IS NOT NULL"),
            postgresql_where=text("root_id IS NOT NULL"),
        ),
    )


class Worker(Base):
    __tablename__ = "workers"
    # a scrape reads every worker's inspection time from the index alone: SQLite keeps the
    # column after the long `registered` list, whose overflow pages it would walk (0021)
    __table_args__ = (Index("ix_workers_inspected", "hostname", "inspected_at"),)

    hostname: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    last_heartbeat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    online_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    loadavg: Mapped[str | None] = mapped_column(String(64))
    software: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    freq: Mapped[float | None] = mapped_column(Float)
    concurrency: Mapped[int | None] = mapped_column(Integer)
    queues: Mapped[str | None] = mapped_column(Text)  # JSON list, from active_queues()
    registered: Mapped[str | None] = mapped_column(Text)  # JSON list, from registered()
    # sha1 of `registered` (`registered_digest`): a scrape reads the distinct digests and each
    # list it has not read before, not 200 copies of a deployment's list (0020). NULL where a
    # writer did not set it: readers then read that row's list itself.
    registered_digest: Mapped[str | None] = mapped_column(String(40), index=True)
    # JSON {task name: {rate_limit, time_limit, soft_time_limit}}: what the worker reports it
    # runs with now (registered() with those attributes), only for names that have any.
    limits: Mapped[str | None] = mapped_column(Text)
    # Messages the worker may hold unacknowledged (stats()["prefetch_count"]): beyond its
    # concurrency, tasks wait behind running ones while list-length autoscalers see nothing.
    prefetch_count: Mapped[int | None] = mapped_column(Integer)
    # Last time the worker answered the scheduler's ping/inspect (liveness without events).
    inspected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # From the scheduler's inspection (fleet/inspection.py), not from events: tasks prefetched
    # (reserved) and held with an ETA (scheduled), a few of each with the active ones (JSON
    # {"active": [[id, name]...], ...}), and when the worker booted (stats' uptime).
    reserved: Mapped[int | None] = mapped_column(Integer)
    scheduled: Mapped[int | None] = mapped_column(Integer)
    booted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_tasks: Mapped[str | None] = mapped_column(Text)
    # operator safety (issue 15 item 2): conf()'s task_routes and task_default_queue (JSON),
    # asked by the scheduler's inspection, so the trigger form shows routes without a broadcast.
    routing: Mapped[str | None] = mapped_column(Text)


class QueueSample(Base):
    __tablename__ = "queue_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(255))
    sampled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ready: Mapped[int] = mapped_column(Integer)
    unacked: Mapped[int] = mapped_column(Integer, default=0)
    scheduled: Mapped[int] = mapped_column(Integer, default=0)
    consumers: Mapped[int] = mapped_column(Integer, default=0)
    # No longer written: rates are read from task history (fleet.queue_rates), one definition
    # for every reader. Kept so that upgrading does not rewrite the largest SQLite table.
    rate_in: Mapped[float | None] = mapped_column(Float)
    rate_out: Mapped[float | None] = mapped_column(Float)
    oldest_waiting_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_queue_samples_queue_time", "queue", "sampled_at"),
        Index("ix_queue_samples_time", "sampled_at"),
    )


class FleetStatus(Base):
    """One row the sampling scheduler keeps current: who samples, and whether the broker answers.

    Console replicas that do not sample read it to say "broker unreachable since ...".
    """

    __tablename__ = "fleet_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    sampler: Mapped[str | None] = mapped_column(String(255))
    last_sample_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    broker_error: Mapped[str | None] = mapped_column(Text)
    broker_down_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # RabbitMQ native delayed delivery (Celery 5.5+, quorum queues): ETA tasks waiting in the
    # celery_delayed_* queues, for the whole vhost (which queue each is for cannot be read).
    delayed_messages: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # faults (issue 16): the broker's run id (Redis INFO run_id); a new one is a restart,
    # counted, with the backlog that was waiting before it (possibly lost).
    broker_run_id: Mapped[str | None] = mapped_column(String(64))
    broker_restarts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    broker_restarted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    broker_restart_waiting: Mapped[int | None] = mapped_column(Integer)


class Action(Base):
    """Who did what to which task, queue or worker, and how it went."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(255))
    params: Mapped[str | None] = mapped_column(Text)  # JSON
    outcome: Mapped[str] = mapped_column(String(16))  # ok | error | refused | pending
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)  # JSON answer, replayed for Idempotency-Key
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)

    __table_args__ = (
        Index("ix_actions_at", "at"),
        Index("ix_actions_actor_at", "actor", "at"),
        Index("ix_actions_action_at", "action", "at"),
        Index("ix_actions_target", "target"),
    )


class Revocation(Base):
    """A revoke that is sent again to every worker that comes online, until it expires."""

    __tablename__ = "revocations"

    task_id: Mapped[str] = mapped_column(String(155), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    terminate: Mapped[bool] = mapped_column(Boolean, default=False)
    signal: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))


class QueuePause(Base):
    """A queue paused fleet-wide: cancelled on every worker, and on every worker coming online."""

    __tablename__ = "queue_pauses"

    queue: Mapped[str] = mapped_column(String(255), primary_key=True)
    paused_by: Mapped[str] = mapped_column(String(64))
    paused_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # JSON {hostname: n}: tasks workers had prefetched when the pause arrived (they still run).
    held_at_pause: Mapped[str | None] = mapped_column(Text)


class QueuePauseConsumer(Base):
    """A worker that consumed a paused queue, with the queue's declaration it used (resume
    adds it back with exactly those options: quorum arguments, bindings, priorities)."""

    __tablename__ = "queue_pause_consumers"

    queue: Mapped[str] = mapped_column(
        ForeignKey("queue_pauses.queue", ondelete="CASCADE"), primary_key=True
    )
    hostname: Mapped[str] = mapped_column(String(255), primary_key=True)
    declaration: Mapped[str | None] = mapped_column(Text)  # JSON, kombu Queue.as_dict()
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskLimit(Base):
    """Runtime rate and time limits for one task name, re-applied to workers coming online.

    `code_*` are the values the workers' code had before the first change (what a reset sends
    back); `code_known` is False when no worker answered then.
    """

    __tablename__ = "task_limits"

    task_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    rate_limit: Mapped[str | None] = mapped_column(String(32))
    rate_set: Mapped[bool] = mapped_column(Boolean, default=False)
    rate_set_by: Mapped[str | None] = mapped_column(String(64))
    rate_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    soft_time_limit: Mapped[float | None] = mapped_column(Float)
    time_limit: Mapped[float | None] = mapped_column(Float)
    time_set: Mapped[bool] = mapped_column(Boolean, default=False)
    time_set_by: Mapped[str | None] = mapped_column(String(64))
    time_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    code_rate_limit: Mapped[str | None] = mapped_column(String(32))
    code_soft_time_limit: Mapped[float | None] = mapped_column(Float)
    code_time_limit: Mapped[float | None] = mapped_column(Float)
    code_known: Mapped[bool] = mapped_column(Boolean, default=False)


class EventGap(Base):
    """A span of time in which the ingester could not see events: history there is incomplete."""

    __tablename__ = "event_gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)
    estimated_missed: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(255))


class AuditRun(Base):
    __tablename__ = "audit_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    root: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    error: Mapped[str | None] = mapped_column(Text)
    endpoints: Mapped[int] = mapped_column(Integer, default=0)
    offloaded: Mapped[int] = mapped_column(Integer, default=0)
    inline: Mapped[int] = mapped_column(Integer, default=0)
    inline_heavy: Mapped[int] = mapped_column(Integer, default=0)
    inprocess_background: Mapped[int] = mapped_column(Integer, default=0)
    coverage: Mapped[float | None] = mapped_column(Float)
    actor: Mapped[str | None] = mapped_column(String(64))
    # Progress while running (files parsed of files found), then the size of the tree.
    files: Mapped[int] = mapped_column(Integer, default=0)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    skipped_files: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[str | None] = mapped_column(Text)  # JSON [{file, reason}], the first 1000
    owner: Mapped[str | None] = mapped_column(String(255))  # host:pid running it
    analyser_version: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_audit_runs_project_time", "project", "started_at"),
        # One run per project at a time, across every console replica and scheduler.
        Index(
            "ux_audit_runs_one_running",
            "project",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )


class AuditFinding(Base):
    __tablename__ = "audit_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id", ondelete="CASCADE"), index=True)
    feature: Mapped[str | None] = mapped_column(String(255))
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer)
    handler: Mapped[str] = mapped_column(String(255))
    framework: Mapped[str | None] = mapped_column(String(32))
    methods: Mapped[str | None] = mapped_column(String(255))
    route: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    heavy: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str | None] = mapped_column(Text)  # JSON list


class Ingester(Base):
    """One run of the event ingester: when it was alive, so a restart can record the gap."""

    __tablename__ = "ingesters"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    alive_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    events_per_s: Mapped[float | None] = mapped_column(Float)
    # events this run wrote, as of its last checkpoint: a `serve` replica sums them for
    # controlplane_events_ingested_total (the ingester runs in another process)
    events_ingested: Mapped[int | None] = mapped_column(BigInteger)
    # CPU seconds this run spent receiving and decoding events, and writing them (its
    # threads' own clocks): where an ingester's time goes, per event
    decode_cpu_s: Mapped[float | None] = mapped_column(Float)
    write_cpu_s: Mapped[float | None] = mapped_column(Float)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AlertAck(Base):
    """Someone has seen a firing alert (fleet/alerts.py): who and when, until it clears.

    One row per alert instance (condition name, subject). The leading scheduler deletes the
    row once the instance stops firing, so the next occurrence alerts again.
    """

    __tablename__ = "alert_acks"

    alert: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---- failure groups (issue 18 part 3, branch schedules-failures) ------------------------------


class FailureGroup(Base):
    """Final failures with one cause: task name, exception type, normalised message, frame.

    Counters are added to as failures are ingested (failures/ingest.py), never recounted.
    `status` is what operators set (open, resolved, ignored); new / ongoing / regression are
    read from the times (failures/groups.py).
    """

    __tablename__ = "failure_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    task_name: Mapped[str] = mapped_column(String(255))
    exception_type: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)  # normalised: numbers, ids, quoted values as <…>
    frame: Mapped[str | None] = mapped_column(String(512))  # innermost project frame
    failures: Mapped[int] = mapped_column(BigInteger, default=0)
    # distinct tasks: a console retry (tasks.retry_of) failing again is a failure, not a task
    tasks: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sample_task_id: Mapped[str | None] = mapped_column(String(155))
    sample_exception: Mapped[str | None] = mapped_column(Text)
    sample_traceback: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    status_by: Mapped[str | None] = mapped_column(String(64))
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # set when a failure arrives after the group was resolved: it reopened
    regressed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_failure_groups_last_seen", "last_seen_at"),)


class FailureMember(Base):
    """A task counted in a group, once: ingesting its FAILURE again adds nothing."""

    __tablename__ = "failure_members"

    task_id: Mapped[str] = mapped_column(String(155), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("failure_groups.id", ondelete="CASCADE"))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_failure_members_group_time", "group_id", "failed_at"),
        Index("ix_failure_members_failed_at", "failed_at"),  # retention
    )


class FailureGroupHour(Base):
    """Failures of a group per hour: the 24 h sparkline without reading the members."""

    __tablename__ = "failure_group_hours"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("failure_groups.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class FailureGroupWorker(Base):
    """Workers a group's failures ran on, with how many each."""

    __tablename__ = "failure_group_workers"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("failure_groups.id", ondelete="CASCADE"), primary_key=True
    )
    worker: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---- schedules (issue 18 part 2, branch schedules-failures) -----------------------------------


class Schedule(Base):
    """A periodic task the console watches: from the fleet's Celery app (beat_schedule) or
    inferred from history, with what the leader's watch last found (periodic/watch.py)."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # "source:name"
    source: Mapped[str] = mapped_column(String(32))  # celery_app | inferred
    name: Mapped[str] = mapped_column(String(255))
    task: Mapped[str] = mapped_column(String(255))
    spec: Mapped[str] = mapped_column(Text)  # JSON: Celery schedule kind and fields
    args: Mapped[str | None] = mapped_column(Text)  # JSON list
    kwargs: Mapped[str | None] = mapped_column(Text)  # JSON object
    options: Mapped[str | None] = mapped_column(Text)  # JSON: queue, exchange, routing_key...
    args_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(Text)  # how an inferred schedule was recognised
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # last found in its source
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_task_id: Mapped[str | None] = mapped_column(String(155))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    missed_runs: Mapped[int] = mapped_column(BigInteger, default=0)
    missed_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    missed_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# ---- issue 15 (safety-web, 0011): the login throttle, shared by every replica ----------------


class LoginThrottle(Base):
    """Failed logins per key ("addr:IP" and "user:NAME|addr:IP") in the current window.

    In the database so that every replica counts the same guesses; a key waits until
    `next_allowed_at` (a delay that grows with each failure past the free ones).
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    next_allowed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---- Alerting (issue 18 part 1: controlplane/alerting/) -----------------------------------------


class AlertRule(Base):
    """A rule made on the Alerts page: which condition, where (queue / task-name globs), how
    loud, how long it must hold before firing, how often it repeats, and to which channels.
    Rules from `[controlplane.alerts]` in the config are not stored; they are read at start."""

    __tablename__ = "alert_rules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    condition: Mapped[str] = mapped_column(String(64))
    queues: Mapped[str] = mapped_column(String(255), default="*")
    tasks: Mapped[str] = mapped_column(String(255), default="*")
    severity: Mapped[str | None] = mapped_column(String(16))  # None: the condition's
    for_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    repeat_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # 0: never repeat
    thresholds: Mapped[str] = mapped_column(Text, default="{}")  # JSON: Settings overrides
    channels: Mapped[str] = mapped_column(Text, default="[]")  # JSON list; empty: every one
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NotificationChannel(Base):
    """Where notifications go: webhook, slack or email. `secret` (HMAC key, Slack URL, SMTP
    password) is written here and never read back into a page, an answer or the log."""

    __tablename__ = "notification_channels"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON, nothing secret
    secret: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertState(Base):
    """One occurrence of a rule's alert on a subject: pending -> firing -> resolved.

    The leading scheduler moves it along and, in the same transaction, writes the
    notifications it owes, so a new leader carries on where the old one stopped."""

    __tablename__ = "alert_states"
    __table_args__ = (Index("ix_alert_states_open", "state", "rule", "alert", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64))
    alert: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))  # pending, firing, resolved
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    link: Mapped[str] = mapped_column(String(1024))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """One message owed to one channel; `id` is the stable notification id a receiver
    deduplicates on (sent again, with the same id, only when a delivery was cut short)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alert_state_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_states.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))  # firing, repeat, resolved, test
    payload: Mapped[str] = mapped_column(Text)  # JSON: the webhook body
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationAttempt(Base):
    """One try at delivering a notification: when, and what the other side said."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)


class Silence(Base):
    """No notification for matching alerts until `ends_at` (they still show as firing)."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert: Mapped[str] = mapped_column(String(64), default="*")  # condition name glob
    subject: Mapped[str] = mapped_column(String(255), default="*")  # subject glob
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def registered_digest(text: str | None) -> str | None:
    """The digest stored beside a worker's registered list (None for no list)."""
    return None if text is None else hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@event.listens_for(Worker.registered, "set", retval=True)
def _digest_registered(target: Worker, value: str | None, *_: object) -> str | None:
    """Every ORM write of `registered` writes its digest too."""
    target.registered_digest = registered_digest(value)
    return value
