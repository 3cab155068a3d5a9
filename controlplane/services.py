"""The service layer's shared handles and per-process state, built once per process.

The service convention (docs/ARCHITECTURE.md): a service function takes `services` first,
opens its own transaction with `services.transaction()`, and returns plain data (dataclasses,
dicts, numbers), never ORM objects. Functions that take a `Session` are private helpers of one
service module, called inside that module's transaction.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from controlplane.config import Settings
from controlplane.db import make_engine, make_session_factory, ping, session_scope
from controlplane.errors import BrokerUnavailable, DatabaseUnavailable, SettingsError
from controlplane.fleet.backlog_history import SampleBacklogs
from controlplane.fleet.sample import LatestSample

if TYPE_CHECKING:
    from celery import Celery

    from controlplane.autoscale.recommender import Recommender
    from controlplane.broker import Broker
    from controlplane.control.registry import FleetRouting
    from controlplane.events.counters import DatabaseCounters
    from controlplane.events.redact import Redactor
    from controlplane.events.stats import IngestStats
    from controlplane.fleet.insights import Insights
    from controlplane.fleet.queue_rates import QueueRates
    from controlplane.users import UserRecord

V = TypeVar("V")
# What a database outage looks like through SQLAlchemy: the server is gone or does not answer.
OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def describe_outage(exc: BaseException) -> str:
    """One line for logs and 503 answers: the driver's first line, no SQL, no parameters."""
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [""])[0]
    return f"database unavailable: {type(original).__name__}: {first}"[:300]


def process_identity() -> str:
    """hostname:pid, what the leader lock, the logs and the status rows call this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class TimedCache(Generic[V]):
    """Values computed at most every `ttl` seconds per key, in this process only.

    Two threads that miss at once may both compute; both results are right, one is kept.
    With `serve_stale`, once a value exists, one thread recomputes it when it expires while the
    others keep answering with it: twenty clients of a page do not all run its queries at once
    (for figures that tolerate being a recompute late, never for who may do what).
    """

    def __init__(self, ttl: float, max_entries: int = 64, serve_stale: bool = False) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.serve_stale = serve_stale
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._computing: set[Hashable] = set()
        self._lock = threading.Lock()

    def get(self, compute: Callable[[], V], key: Hashable = None, refresh: bool = False) -> V:
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and not refresh and now < hit[0]:
            return hit[1]
        if hit is None or refresh or not self.serve_stale:
            return self._store(key, compute(), now)
        with self._lock:
            if key in self._computing:
                return hit[1]  # another thread is computing its successor
            self._computing.add(key)
        try:
            return self._store(key, compute(), now)
        finally:
            with self._lock:
                self._computing.discard(key)

    def _store(self, key: Hashable, value: V, now: float) -> V:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # bounded: keys can come from requests
        self._entries[key] = (now + self.ttl, value)
        return value

    def peek(self, key: Hashable = None) -> V | None:
        """The value kept for `key`, even past its ttl, without computing one."""
        hit = self._entries.get(key)
        return None if hit is None else hit[1]

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class ProcessState:
    """What one process remembers between requests and jobs: one owner per field."""

    # fleet.sample: the last sample, kept by this process's sampler while it leads (else empty).
    latest: LatestSample = field(default_factory=LatestSample)
    # events: the ingester's counters when it runs in this process (`up`, `events`), else None.
    ingest_stats: IngestStats | None = None
    # events.counters: the counters rebuilt from the database, for a process without an ingester.
    database_counters: DatabaseCounters | None = None
    # users: bearer token -> its user (None: no such token); cleared here when a token is
    # revoked or a user disabled, forgotten by other replicas within its 5 s (README).
    tokens: TimedCache[UserRecord | None] = field(
        default_factory=lambda: TimedCache(5.0, max_entries=10_000)
    )
    # control.registry: task names the workers registered.
    # control.registry: (task names, whether any worker reported its tasks)
    registered_tasks: TimedCache[tuple[tuple[str, ...], bool]] = field(
        default_factory=lambda: TimedCache(30.0)
    )
    # control.registry: the fleet app's task_routes and task_default_queue, from conf().
    routing: TimedCache[FleetRouting] = field(default_factory=lambda: TimedCache(30.0))
    # fleet.insights: the Insights page's figures.
    insights: TimedCache[Insights] = field(
        default_factory=lambda: TimedCache(10.0, serve_stale=True)
    )
    # fleet.text_search: the newest tasks' text, telling which word of a search is rare.
    text_sample: TimedCache[tuple[str, ...]] = field(default_factory=lambda: TimedCache(600.0))
    # fleet.view: backlog per minute over the last hour, per set of queues.
    sparklines: TimedCache[dict[str, tuple[int | None, ...]]] = field(
        default_factory=lambda: TimedCache(20.0, serve_stale=True)
    )
    # fleet.queue_rates: arrival and completion rates per queue.
    rates: TimedCache[QueueRates] = field(default_factory=lambda: TimedCache(5.0, serve_stale=True))
    # fleet.alerts: the backlogs of the last samples read (a sample's rows never change).
    backlogs: SampleBacklogs = field(default_factory=SampleBacklogs)
    # fleet.alerts: (succeeded, failed) per queue within the failure-ratio window (5 min by
    # default: a value 30 s old is fresh enough, and a 15 s scrape reuses every other one).
    outcomes: TimedCache[dict[str, tuple[int, int]]] = field(
        default_factory=lambda: TimedCache(30.0, serve_stale=True)
    )
    # autoscale.recommender: its scale-down window spans scrapes and page views.
    recommender: Recommender | None = None
    # audit_runs.runner: ids of the audit runs executing in this process (state, not cache).
    audit_runs_here: set[int] = field(default_factory=set)
    # processes.scheduler (issue 16): job name -> (since, error) while that job keeps failing.
    job_failures: dict[str, tuple[float, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Services:
    """What views, the CLI and background threads share: settings, database, broker, Celery."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    state: ProcessState = field(default_factory=ProcessState)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises.

        A database that does not answer (down, unreachable, locked past the busy timeout)
        raises DatabaseUnavailable, which the web answers with 503, never a 500 page.
        """
        try:
            with session_scope(self.sessions) as session:
                yield session
        except OUTAGES as exc:
            raise DatabaseUnavailable(describe_outage(exc)) from exc

    @cached_property
    def redactor(self) -> Redactor:
        """The one redactor (events/redact.py) for what the console stores or shows beyond
        task rows: the action log's parameters and errors."""
        from controlplane.events.redact import Redactor

        settings = self.settings
        return Redactor(
            settings.redact_pattern, settings.max_arg_chars, settings.max_traceback_chars
        )

    @cached_property
    def celery(self) -> Celery:
        """The console's own Celery app on the fleet's broker (built on first use)."""
        from controlplane.broker.celery_app import make_celery

        self._require_broker()
        return make_celery(self.settings)

    @cached_property
    def broker(self) -> Broker:
        """Queue depth from the fleet's broker (built on first use)."""
        from controlplane.broker import broker_for

        return broker_for(self._require_broker(), self.settings.broker_transport_options)

    def _require_broker(self) -> str:
        if not self.settings.broker_url:
            raise SettingsError("CONTROLPLANE_BROKER_URL: this command needs the fleet's broker")
        return self.settings.broker_url

    def readiness(self) -> dict[str, str]:
        """What keeps this process from serving: {"database" | "broker": why}; empty when ready."""
        problems: dict[str, str] = {}
        try:
            ping(self.engine)
        except Exception as exc:
            problems["database"] = describe_outage(exc)
        try:
            self.broker.ping()
        except (BrokerUnavailable, SettingsError) as exc:
            problems["broker"] = str(exc)[:500]
        problems.update(self._write_problems())
        return problems

    def _write_problems(self) -> dict[str, str]:
        """The ingester's and the sampler's last writes, when they ran here and failed: a
        database that answers a ping may still refuse every write (disk full)."""
        now = time.time()
        problems = {}
        stats = self.state.ingest_stats
        failing = stats.write_failing if stats is not None else None
        if failing is not None:
            since, error = failing
            problems["ingest"] = f"event writes failing for {now - since:.0f} s: {error}"
        sampling = self.state.job_failures.get("sample")
        if sampling is not None:
            since, error = sampling
            problems["sampler"] = f"queue samples failing for {now - since:.0f} s: {error}"
        return problems

    def close(self) -> None:
        if self.state.database_counters is not None:  # its refresher thread reads the engine
            self.state.database_counters.close()
        if "broker" in self.__dict__:
            self.broker.close()
        self.engine.dispose()


def build_services(settings: Settings, engine: Engine | None = None) -> Services:
    engine = engine or make_engine(settings.database_url)
    return Services(settings=settings, engine=engine, sessions=make_session_factory(engine))
