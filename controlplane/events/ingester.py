"""The event ingester: source -> RawBuffer -> Processor -> Writer, plus what keeps it honest.

Threads: the source (Redis pub/sub or AMQP) only receives; the processor decodes and
merges; the writer writes batches; a helper thread runs reconciliation after gaps and the
`on_worker_online` hook, so neither ever blocks the stream. `stop()` (SIGTERM in `controlplane
events`) stops receiving, lets the processor and writer drain everything already received,
and records a clean stop, so the next start knows exactly where its gap begins.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from controlplane.config import Settings
from controlplane.db import make_engine
from controlplane.errors import IngestError
from controlplane.events.amqp_source import MESSAGE_TTL, AmqpEventSource
from controlplane.events.batch import Batch
from controlplane.events.broker_watch import BrokerWatch, redis_watch
from controlplane.events.buffer import RawBuffer, Synthetic
from controlplane.events.holdback import HOLD_SECONDS
from controlplane.events.lock import SqliteIngestLock
from controlplane.events.processor import Processor
from controlplane.events.reconcile import reconcile
from controlplane.events.redact import Redactor
from controlplane.events.redis_source import RedisEventSource
from controlplane.events.stats import IngestStats
from controlplane.events.store import EventStore, GapRecord, to_epoch
from controlplane.events.writer import CHECKPOINT_EVERY, FailureHook, Writer

log = logging.getLogger(__name__)
PEER_ALIVE_WITHIN = 5.0  # another ingester seen this recently was watching for us


class Ingester:
    """Consumes the fleet's Celery events into the database until `stop()`."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        *,
        on_worker_online: Callable[[str], None] | None = None,
        stats: IngestStats | None = None,
        flush_interval: float = 0.1,
        batch_rows: int = 5000,
        hold_seconds: float = HOLD_SECONDS,
        reconcile_after_gaps: bool = True,
        amqp_queue: str | None = None,
        on_failures: FailureHook | None = None,
    ) -> None:
        if not settings.broker_url:
            raise IngestError("the event ingester needs a broker URL")
        self.settings = settings
        self._own_engine = engine is None
        self.engine = engine or make_engine(settings.database_url)
        self.on_worker_online = on_worker_online
        self.on_failures = on_failures
        self.stats = stats or IngestStats()
        self.flush_interval = flush_interval
        self.batch_rows = batch_rows
        self.hold_seconds = hold_seconds
        self.reconcile_after_gaps = reconcile_after_gaps
        self.amqp_queue = amqp_queue or settings.effective_event_queue  # RabbitMQ only
        self.id = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.store = EventStore(self.engine)
        self.buffer = RawBuffer(
            settings.event_buffer_mb * 1024 * 1024, settings.event_spool_mb * 1024 * 1024
        )
        self.redactor = Redactor(
            settings.redact_pattern, settings.max_arg_chars, settings.max_traceback_chars
        )
        self._lock = SqliteIngestLock(settings.database_url) if settings.is_sqlite else None
        self._batches: queue.Queue[Batch] = queue.Queue(maxsize=1)
        self._jobs: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1000)
        self._helper = threading.Thread(target=self._run_jobs, name="events-helper", daemon=True)
        self._celery: Any = None
        self._started = False
        self._last_checkpoint: tuple[float, int] | None = None
        self.amqp = settings.broker_url.startswith(("amqp", "pyamqp"))
        self.source: RedisEventSource | AmqpEventSource | None = None
        self.processor: Processor | None = None
        self.writer: Writer | None = None
        self.broker_watch: BrokerWatch | None = None  # Redis only: is the broker stalled?

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> Ingester:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self._start()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    def _start(self) -> None:
        from controlplane.broker.celery_app import make_celery

        now = time.time()
        startup_gap = self._startup_gap(now)
        self.store.register_ingester(self.id, socket.gethostname(), os.getpid(), now)
        self._celery = make_celery(self.settings)
        self.processor = Processor(
            self.buffer,
            self._batches,
            self.redactor,
            self.stats,
            source_name="amqp" if self.amqp else "redis",
            flush_interval=self.flush_interval,
            batch_rows=self.batch_rows,
            hold_seconds=self.hold_seconds,
            on_connected=self._on_connected,
            on_worker_online=self._worker_online,
            startup_gap=startup_gap,
            lossless_reconnect=self.amqp,
        )
        self.processor.seed_workers(self.store.live_workers())
        self.writer = Writer(
            self.store,
            self._batches,
            self.stats,
            checkpoint=self._checkpoint,
            on_failures=self.on_failures,
        )
        url = self.settings.broker_url or ""
        self.source = (
            AmqpEventSource(url, self.buffer, queue_name=self.amqp_queue)
            if self.amqp
            else RedisEventSource(url, self.buffer)
        )
        if not self.amqp:  # AMQP connections carry heartbeats: a stall is a disconnect there
            self.broker_watch = redis_watch(url).start()
            self.processor.broker_watch = self.broker_watch
        self._helper.start()
        self.writer.start()
        self.processor.start()
        self.source.start()
        self._started = True
        log.info("event ingester %s started (%s)", self.id, self.source.name)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop receiving, write everything already received, record a clean stop."""
        if not self._started:
            return
        self._started = False
        deadline = time.monotonic() + timeout
        assert self.source and self.processor and self.writer
        self.source.stop()
        if self.broker_watch is not None:
            self.broker_watch.stop()
        self.processor.stop_requested.set()
        self.processor.finished.wait(max(0.1, deadline - time.monotonic()))
        self.writer.stop_requested.set()
        self.writer.thread.join(max(0.1, deadline - time.monotonic()))
        self._jobs.put(("stop", None))
        self._helper.join(5)
        try:
            self.store.touch_ingester(
                self.id, time.time(), self.writer.last_event_at, self._rate(time.time()),
                stopped=True, events_ingested=self.stats.events_ingested,
                cpu_s=self.cpu_seconds(),
            )  # fmt: skip
        except Exception as exc:
            log.warning("could not record the ingester stop: %s", exc)
        self.buffer.close()
        if self._celery is not None:
            self._celery.close()
        if self._own_engine:
            self.engine.dispose()
        if self._lock is not None:
            self._lock.release()
        log.info("event ingester %s stopped", self.id)

    def __enter__(self) -> Ingester:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once everything received so far is written (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        assert self.processor and self.writer
        while time.monotonic() < deadline:
            if (
                self.buffer.empty()
                and not self.processor.batch
                and self._batches.empty()
                and self._batches.unfinished_tasks == 0
            ):
                return True
            time.sleep(0.02)
        return False

    # ---- gaps and reconciliation -----------------------------------------------------------

    def _startup_gap(self, now: float) -> GapRecord | None:
        previous = self.store.previous_ingesters(self.id)
        if not previous:
            return None
        if self._peer_running(previous):
            return None  # a peer is running: it saw what we did not
        newest = previous[0]
        stopped = to_epoch(newest["stopped_at"])
        # a run that died had written everything received until about a checkpoint and
        # a hold (holdback.py) before it was last seen alive
        last_alive = to_epoch(newest["alive_at"]) or now
        start = stopped if stopped is not None else last_alive - 1.0 - self.hold_seconds
        how = "stopped" if stopped is not None else "was last seen alive"
        end: float | None = None
        if self.amqp:
            # our event queue kept what was published in the last MESSAGE_TTL seconds
            if now - start <= MESSAGE_TTL:
                return None
            end = now - MESSAGE_TTL
        rate = newest["events_per_s"]
        estimate = int(rate * ((end or now) - start)) if rate else None
        reason = f"no ingester was running: the previous one ({newest['id']}) {how} then"
        return GapRecord(start, end, reason, estimate, "restart")

    def _peer_running(self, previous: list[dict[str, Any]]) -> bool:
        """Is another ingester writing right now? (It checkpoints every second.)"""
        if self.settings.is_sqlite:
            return False  # we hold the lock: whoever wrote before us is gone
        recent = {
            run["id"]: run["alive_at"]
            for run in previous
            if run["stopped_at"] is None
            and time.time() - (to_epoch(run["alive_at"]) or 0.0) < PEER_ALIVE_WITHIN
        }
        if not recent:
            return False
        time.sleep(2.5 * CHECKPOINT_EVERY)  # a live peer moves its alive_at meanwhile
        again = {run["id"]: run["alive_at"] for run in self.store.previous_ingesters(self.id)}
        return any(again.get(run_id) != alive for run_id, alive in recent.items())

    def _on_connected(self, at: float, gap_started: float | None) -> None:
        """Called by the processor in stream order; the work happens on the helper thread."""
        self._submit(("connected", (at, gap_started)))

    def _worker_online(self, hostname: str) -> None:
        if self.on_worker_online is not None:
            self._submit(("online", hostname))

    def _submit(self, job: tuple[str, Any]) -> None:
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            log.warning("helper queue full; dropped %s", job[0])

    def _run_jobs(self) -> None:
        while True:
            kind, payload = self._jobs.get()
            if kind == "stop":
                return
            try:
                if kind == "online" and self.on_worker_online is not None:
                    self.on_worker_online(payload)
                elif kind == "connected":
                    self._after_connect(*payload)
            except Exception:
                log.exception("%s job failed", kind)

    def _after_connect(self, at: float, gap_started: float | None) -> None:
        if not self.amqp:  # AMQP's receiver wakes the workers itself
            try:
                self._celery.control.broadcast("heartbeat")
            except Exception as exc:
                log.debug("could not wake up workers: %s", exc)
        if gap_started is None or not self.reconcile_after_gaps:
            return
        time.sleep(min(1.0, self.flush_interval * 5))  # let the first events land
        assert self.processor
        expected = self.processor.online_workers()
        rows = reconcile(
            self._celery,
            self.store,
            self.redactor,
            expected_workers=expected,
            timeout=self.settings.inspect_timeout,
            gap_started=gap_started,
        )
        if rows:
            self.buffer.put_unordered(Synthetic(tuple(rows)))

    # ---- checkpoints -----------------------------------------------------------------------

    def _rate(self, now: float) -> float | None:
        ingested = self.stats.events_ingested
        if self._last_checkpoint is None:
            self._last_checkpoint = (now, ingested)
            return None
        then, count = self._last_checkpoint
        self._last_checkpoint = (now, ingested)
        return round((ingested - count) / max(now - then, 1e-3), 1)

    def cpu_seconds(self) -> tuple[float, float] | None:
        """CPU seconds spent so far (decode: receiving and processing; write: the writer)."""
        if self.source is None or self.processor is None or self.writer is None:
            return None
        return self.source.cpu_s + self.processor.cpu_s, self.writer.cpu_s

    def _checkpoint(self, now: float, last_event_at: float | None) -> None:
        self.store.touch_ingester(
            self.id, now, last_event_at, self._rate(now),
            events_ingested=self.stats.events_ingested, cpu_s=self.cpu_seconds(),
        )  # fmt: skip
