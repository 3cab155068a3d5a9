"""The scheduler's two fleet jobs: sample queue depth, and inspect the workers.

A sample: discover the queues, read every depth in one broker call, ask the known workers for
their ETA tasks, add rates and the oldest wait from task history, write it all, keep it in
memory. When the broker does not answer, record since when and back off (doubling up to a cap);
the next successful sample clears it. Nothing here raises out of a job.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from controlplane.broker.queue_names import QUEUE_NAME, reserved_reason
from controlplane.clock import utcnow
from controlplane.config import TransportOptions
from controlplane.errors import BrokerUnavailable
from controlplane.fleet.broker_restarts import note_run_id
from controlplane.fleet.health import consumers_by_queue, load_workers
from controlplane.fleet.inspection import (
    Route,
    inspect_workers,
    ping,
    record_reports,
    routes_of,
    scheduled_by_queue,
)
from controlplane.fleet.pauses import paused_names
from controlplane.fleet.queue_rates import oldest_waiting, task_queues_since
from controlplane.fleet.sample import FleetSample, LatestSample, record_broker_down, write_sample
from controlplane.services import Services

log = logging.getLogger(__name__)

TASK_QUEUE_WINDOW = 3600.0  # a queue named only by task history is sampled this long after
MAX_QUEUES = 2000  # queues sampled per round, whatever discovery finds


def backoff_cap(sample_interval: float) -> float:
    """Longest wait between attempts while the broker is down: 10 intervals, at most 30 s."""
    return max(sample_interval, min(30.0, 10 * sample_interval))


class QueueDiscovery:
    """Queues worth sampling: configured, consumed by a worker, or named by recent tasks."""

    def __init__(
        self, configured: tuple[str, ...], options: TransportOptions | None = None
    ) -> None:
        self.configured = configured
        self.options = options or TransportOptions()
        self.from_tasks: dict[str, datetime] = {}
        self._scanned_until: datetime | None = None

    def queues(self, session: Session, now: datetime, worker_queues: list[str]) -> list[str]:
        since = self._scanned_until or now - timedelta(seconds=TASK_QUEUE_WINDOW)
        # Overlap by a few seconds: the ingester writes in batches, slightly behind events.
        for queue, seen in task_queues_since(session, since - timedelta(seconds=10)).items():
            # Names from events are untrusted: a broker key ("unacked", a hash) would make the
            # depth script fail with WRONGTYPE, and the broker look unreachable.
            if not QUEUE_NAME.fullmatch(queue) or reserved_reason(queue, self.options):
                continue
            self.from_tasks[queue] = max(seen, self.from_tasks.get(queue, seen))
        self._scanned_until = now
        horizon = now - timedelta(seconds=TASK_QUEUE_WINDOW)
        self.from_tasks = {q: seen for q, seen in self.from_tasks.items() if seen >= horizon}
        names = dict.fromkeys([*self.configured, *worker_queues, *sorted(self.from_tasks)])
        names.pop("", None)
        return list(names)[:MAX_QUEUES]


class Sampler:
    """One depth sample per call, written by the leader only (the scheduler sees to that)."""

    def __init__(self, services: Services, latest: LatestSample, identity: str) -> None:
        self.services = services
        self.latest = latest
        self.identity = identity
        self.discovery = QueueDiscovery(
            services.settings.queues, services.settings.broker_transport_options
        )
        self.failures = 0
        self._retry_at = 0.0
        # Filled by inspect(): who answered the last ping, and how their queues are bound.
        self.live_hosts: list[str] = []
        self.routes: dict[Route, str] = {}
        self._inspected_at = 0.0
        self._tried: dict[str, float] = {}  # newcomer hostname -> when we last inspected it

    # ---- depth ---------------------------------------------------------------------------

    def sample(self) -> FleetSample | None:
        """Take, store and publish one sample; None while backing off or when the broker is down."""
        started = time.monotonic()
        if started < self._retry_at:
            return None
        settings = self.services.settings
        now = utcnow()
        with self.services.transaction() as session:
            workers = load_workers(session, now, settings.inspect_interval)
            alive_queues = [q for w in workers if w.alive for q in w.queues]
            # A paused queue has no consumer left, and its backlog must stay in sight.
            alive_queues += paused_names(session)
            queues = self.discovery.queues(session, now, alive_queues)
        try:
            run_id = self.services.broker.run_id()
            depths = self.services.broker.depths(queues)
            delayed = self.services.broker.delayed()
        except BrokerUnavailable as exc:
            self._broker_failed(str(exc), now)
            return None
        read = time.monotonic()
        hosts = sorted(set(self.live_hosts) | {w.hostname for w in workers if w.status == "online"})
        scheduled = self._scheduled(hosts)
        asked = time.monotonic()
        by_workers = consumers_by_queue(workers)
        counted_by_broker = self.services.broker.counts_consumers
        with self.services.transaction() as session:
            broker = note_run_id(session, run_id, depths, now)  # before the new sample is in
            busy = [q for q, d in depths.items() if d.backlog]
            oldest = oldest_waiting(session, busy, now)
            states = {}
            for name, depth in depths.items():
                held = scheduled.get(name, 0)
                reserved = depth.reserved
                # Redis: ETA tasks are reserved too; count them once. (If scheduled() failed,
                # they stay under reserved for this sample: the total is right either way.)
                if reserved is not None:
                    reserved = max(0, reserved - held)
                consumers = depth.consumers
                if not counted_by_broker:
                    entry = by_workers.get(name)
                    consumers = entry.consumers if entry else 0
                states[name] = replace(
                    depth,
                    reserved=reserved,
                    scheduled=held,
                    consumers=consumers,
                    oldest_waiting_at=oldest.get(name),
                )
            sample = FleetSample(now, states, broker=broker, sampler=self.identity, delayed=delayed)
            write_sample(session, sample)
        self.latest.publish(sample)
        if self.failures:
            log.info("broker answers again after %d failed sample(s)", self.failures)
        self.failures = 0
        self._retry_at = 0.0
        log.debug(
            "sampled %d queue(s) in %.0f ms (broker %.0f ms, %d worker(s) asked %.0f ms)",
            len(states), (time.monotonic() - started) * 1000, (read - started) * 1000,
            len(hosts), (asked - read) * 1000,
        )  # fmt: skip
        return sample

    def _scheduled(self, hosts: list[str]) -> dict[str, int]:
        if not hosts:
            return {}
        try:
            return scheduled_by_queue(
                self.services.celery, hosts, self.services.settings.inspect_timeout, self.routes
            )
        except Exception as exc:
            log.warning("inspect().scheduled() failed: %s", exc)
            return {}

    def _broker_failed(self, error: str, now: datetime) -> None:
        self.failures += 1
        interval = self.services.settings.sample_interval
        delay = min(backoff_cap(interval), interval * 2 ** (self.failures - 1))
        self._retry_at = time.monotonic() + delay
        log.warning(
            "broker unreachable (attempt %d, next in %.1f s): %s", self.failures, delay, error
        )
        self.broker_down(error, now)

    def broker_down(self, error: str, now: datetime | None = None) -> None:
        """Record (memory and database) that the broker does not answer, keeping the first time."""
        now = now or utcnow()
        self.latest.broker_down(error, now)
        try:
            with self.services.transaction() as session:
                record_broker_down(session, error, now, self.identity)
        except Exception as exc:
            log.warning("could not record the broker outage: %s", exc)

    # ---- workers ---------------------------------------------------------------------------

    def inspect_soon(self) -> None:
        self._inspected_at = 0.0

    def inspect(self, force: bool = False) -> list[str] | None:
        """Ping, then stats/active_queues/registered of those who answered; write them down.

        Runs every inspect_interval, or at every sample while no worker is known (so a new
        fleet without events shows up within seconds). In between, a worker that the event
        ingester saw come online is inspected at once, alone, so its queues count it as a
        consumer without waiting for the next round. Returns the hosts inspected, or None.
        """
        if self.failures:
            return None
        settings = self.services.settings
        due = time.monotonic() - self._inspected_at >= settings.inspect_interval
        full_round = force or due or not self.live_hosts
        if full_round:
            self._inspected_at = time.monotonic()
            hosts = ping(self.services.celery, settings.inspect_timeout)
            self._tried.clear()
        else:
            hosts = self._newcomers()
            if not hosts:
                return None
        reports = inspect_workers(self.services.celery, hosts, settings.inspect_timeout)
        answered = [report for report in reports if report.answered]
        with self.services.transaction() as session:
            record_reports(session, answered, utcnow())
        # The sample job reads these from another thread: assign whole new values.
        if full_round:
            self.live_hosts = hosts
            self.routes = routes_of(answered)
        else:
            self.live_hosts = sorted({*self.live_hosts, *(r.hostname for r in answered)})
            self.routes = {**self.routes, **routes_of(answered)}
        log.debug("inspected %d worker(s)", len(answered))
        return [report.hostname for report in answered]

    def _newcomers(self) -> list[str]:
        """Workers online by heartbeat that the last ping did not see."""
        settings = self.services.settings
        with self.services.transaction() as session:
            workers = load_workers(session, utcnow(), settings.inspect_interval)
        known = set(self.live_hosts)
        now = time.monotonic()
        # One try per inspect_interval each: a worker that does not answer costs a timeout.
        newcomers = [
            w.hostname
            for w in workers
            if w.status == "online"
            and w.hostname not in known
            and now - self._tried.get(w.hostname, -1e9) >= settings.inspect_interval
        ]
        self._tried.update((host, now) for host in newcomers)
        return newcomers
