"""Background jobs under a leader lock: depth sampling, worker inspection, alert evaluation
and notifications (alerting/), retention, audit_runs.

Any number of `controlplane scheduler` (or `up`) processes may run; the one holding the Redis
lock does the work, the others keep trying to take the lock and take over within its lifetime
when the leader dies. Every job is wrapped: an exception is logged and the job runs again at
its next turn; it never stops the scheduler.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from types import FrameType
from typing import Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import undefined

from controlplane import audit_runs
from controlplane.alerting.delivery import deliver_due
from controlplane.alerting.history import purge_history
from controlplane.alerting.state import advance
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.control.queue_pause import enforce_pauses, offending_workers
from controlplane.failures.retention import purge_failures_before
from controlplane.fleet.retention import purge_older_than, retention_cutoff
from controlplane.fleet.sampler import Sampler
from controlplane.fleet.view import settle_alerts
from controlplane.periodic.watch import watch_schedules
from controlplane.processes.leader import LocalLeaderLock, RedisLeaderLock, lock_key
from controlplane.processes.startup import wait_until_ready
from controlplane.services import Services, build_services, process_identity

log = logging.getLogger(__name__)

RETENTION_EVERY = 3600.0  # seconds between retention runs
RETENTION_FIRST = 60.0  # seconds after start before the first one
AUDIT_ACTOR = "scheduler"
AUDIT_MISFIRE_GRACE = 3600  # a nightly audit still runs when its scheduler was busy or asleep


class LeaderLock(Protocol):
    name: str
    reachable: bool

    @property
    def is_leader(self) -> bool: ...

    def refresh(self) -> bool: ...

    def release(self) -> None: ...


def leader_lock_for(settings: Settings, name: str | None = None) -> LeaderLock:
    url = settings.effective_lock_url
    if url is None:
        log.warning(
            "no Redis for the leader lock (set CONTROLPLANE_LOCK_URL): this scheduler assumes "
            "it is the only one"
        )
        return LocalLeaderLock(name)
    return RedisLeaderLock(url, lock_key(settings.database_url), settings.leader_lock_ttl, name)


class FleetScheduler:
    """APScheduler's BackgroundScheduler running the fleet jobs while this process leads."""

    def __init__(self, services: Services, lock: LeaderLock | None = None) -> None:
        # APScheduler logs every run at INFO ("Running job ..."): keep only its warnings,
        # unless someone configured its logger on purpose.
        apscheduler_log = logging.getLogger("apscheduler")
        if apscheduler_log.level == logging.NOTSET:
            apscheduler_log.setLevel(logging.WARNING)
        self.services = services
        self.settings = services.settings
        self.lock = lock or leader_lock_for(self.settings, process_identity())
        self.sampler = Sampler(services, services.state.latest, self.lock.name)
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )
        self._was_leader = False

    def start(self) -> FleetScheduler:
        settings = self.settings
        self._leadership()  # decide before the first sample, not one interval later
        now = utcnow()
        # Renew (or, on standby, try to take) the lock five times per lifetime: a standby
        # takes over at most TTL/5 after the lock of a crashed leader expires.
        renew_every = max(0.1, settings.leader_lock_ttl / 5)
        self._add(self._leadership, renew_every, "leadership")
        self._add(self._sample, settings.sample_interval, "sample", first=now)
        self._add(self._inspect, settings.sample_interval, "inspect", first=now)
        self._add(self._alerts, settings.sample_interval, "alerts")
        self._add(self._notify, settings.sample_interval, "notify")
        self._add(self._schedules, settings.sample_interval, "schedules")
        first_retention = now + timedelta(seconds=RETENTION_FIRST)
        self._add(self._retention, RETENTION_EVERY, "retention", first=first_retention)
        if settings.audit_schedule and settings.audit_projects:
            hour, minute = settings.audit_schedule.split(":")
            self.scheduler.add_job(
                self._guarded(self.run_audits, "audits"),
                CronTrigger(hour=int(hour), minute=int(minute), timezone="UTC"),
                id="audits", name="audits", misfire_grace_time=AUDIT_MISFIRE_GRACE,
            )  # fmt: skip
        self.scheduler.start()
        log.info(
            "scheduler %s started (%s)", self.lock.name, "leader" if self._was_leader else "standby"
        )
        return self

    def stop(self) -> None:
        """Stop the jobs, then release the lock so another scheduler takes over at once."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.lock.release()
        self.services.state.latest.clear()
        log.info("scheduler %s stopped", self.lock.name)

    @property
    def is_leader(self) -> bool:
        return self.lock.is_leader

    def _add(self, job: Callable[[], Any], every: float, name: str, first: Any = undefined) -> None:
        # APScheduler reads next_run_time=None as "add paused": leave it undefined instead.
        self.scheduler.add_job(
            self._guarded(job, name), "interval", seconds=every, id=name, name=name,
            next_run_time=first,
        )  # fmt: skip

    def _guarded(self, job: Callable[[], Any], name: str) -> Callable[[], None]:
        failures = self.services.state.job_failures

        def run() -> None:
            try:
                job()
            except Exception as exc:
                log.exception("scheduler job %r failed; it runs again at its next turn", name)
                since = failures[name][0] if name in failures else time.time()
                failures[name] = (since, f"{type(exc).__name__}: {exc}"[:300])  # for /readyz
            else:
                failures.pop(name, None)

        return run

    # ---- jobs ------------------------------------------------------------------------------

    def _leadership(self) -> None:
        leads = self.lock.refresh()
        if leads and not self._was_leader:
            self.sampler.inspect_soon()  # a new leader learns the workers at its next turn
        if not leads and self._was_leader:
            # readers go to the database, written by the new leader
            self.services.state.latest.clear()
        self._was_leader = leads

    def _sample(self) -> None:
        if self.lock.is_leader:
            self.sampler.sample()
        elif not self.lock.reachable:
            # Nobody can hold the lock while its Redis is down; if that Redis is the broker,
            # say so for the pages (idempotent: every scheduler may write the same thing).
            try:
                self.services.broker.ping()
            except Exception as exc:
                self.sampler.broker_down(str(exc))

    def _inspect(self) -> None:
        if self.lock.is_leader:
            self.sampler.inspect()
            # A worker the inspection finds consuming a paused queue (it came online while no
            # ingester ran, or missed the pause's broadcast) is told again.
            offenders = offending_workers(self.services)
            if offenders:
                enforce_pauses(self.services, offenders)

    def _alerts(self) -> None:
        if self.lock.is_leader:
            view = settle_alerts(self.services)
            # the rules (alerting/) move their states along and write what they owe
            if view.facts is not None and self.lock.is_leader:
                advance(self.services, view.facts)

    def _notify(self) -> None:
        """Deliver the notifications owed (its own job: a slow channel delays no sample)."""
        if self.lock.is_leader:
            deliver_due(self.services, lambda: self.lock.is_leader)

    def _schedules(self) -> None:
        if self.lock.is_leader:
            watch_schedules(self.services)

    def _retention(self) -> None:
        if self.lock.is_leader:
            cutoff = retention_cutoff(utcnow(), self.settings.retention_days)
            purged = purge_older_than(self.services.sessions, cutoff)
            alerts = purge_history(self.services, cutoff)
            members = purge_failures_before(self.services, cutoff)
            log.info("retention before %s: %s, %d resolved alert(s), %d failure group members",
                     cutoff.isoformat(), purged, alerts, members)  # fmt: skip

    def run_audits(self) -> None:
        """The nightly job: audit every configured project while this process leads.

        One project's failure (refused, or a failed run) is logged and the next one runs.
        """
        if not self.lock.is_leader:
            return
        for project in self.settings.audit_projects:
            try:
                run = audit_runs.run_audit(self.services, project.name, AUDIT_ACTOR)
            except Exception as exc:
                log.warning("nightly audit of %s did not run: %s", project.name, exc)
                continue
            if run.status == "done":
                log.info("nightly audit of %s: coverage %s%%", project.name, run.coverage)
            else:
                log.warning("nightly audit of %s failed: %s", project.name, run.error)


def run_scheduler(settings: Settings) -> None:
    """`controlplane scheduler`: run the jobs in the foreground until SIGTERM or SIGINT."""
    services = build_services(settings)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # The broker may be down: the sampler says so on the pages. The database it must have.
    if not wait_until_ready(services, ("database",), stopping):
        services.close()
        return
    scheduler = FleetScheduler(services).start()
    try:
        stopping.wait()
    finally:
        scheduler.stop()
        services.close()
