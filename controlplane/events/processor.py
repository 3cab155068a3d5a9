"""The processor thread: raw items in, merged batches out.

It parses and decodes what the source received, validates and redacts each event, folds
it into the current batch (one row per task and per worker), counts it, and hands the batch
to the writer every `flush_interval` or `batch_rows`. Gaps are noticed here, in stream
order: a Disconnected/Overflow marker is compared with the last event seen before it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from controlplane.events.batch import Batch, LostCheck, RateWindow
from controlplane.events.broker_watch import BrokerWatch
from controlplane.events.buffer import (
    AmqpBody,
    Connected,
    Disconnected,
    Overflow,
    RawBuffer,
    Synthetic,
)
from controlplane.events.decode import (
    DEFAULT_MAX_EVENT_BYTES,
    MalformedEvent,
    decode_body,
    decode_envelope,
)
from controlplane.events.holdback import HOLD_SECONDS, HoldBack
from controlplane.events.liveness import WorkerLiveness
from controlplane.events.merge import UNKNOWN, TaskRow, WorkerRow
from controlplane.events.redact import Redactor
from controlplane.events.resp import RespReader
from controlplane.events.stats import IngestStats, Tally
from controlplane.events.store import GapRecord
from controlplane.events.validate import (
    GROUP_EVENT,
    KNOWN_OTHER_TYPES,
    TASK_EVENT_STATES,
    WORKER_EVENT_STATUS,
    group_row_from_event,
    task_row_from_event,
    worker_row_from_event,
)

log = logging.getLogger(__name__)

_KIND = {
    "task-sent": "sent", "task-received": "received", "task-started": "started",
    "task-succeeded": "succeeded", "task-failed": "failed", "task-retried": "retried",
    "task-revoked": "revoked", "task-rejected": "rejected",
}  # fmt: skip
LABEL_CACHE_SIZE = 20_000
_NEAR_REAL_TIME = 1 << 20  # heartbeats are judged only with less than this much unprocessed


class Processor:
    """Turns the RawBuffer into Batches on `out`; runs in its own thread."""

    def __init__(
        self,
        buffer: RawBuffer,
        out: queue.Queue[Batch],
        redactor: Redactor,
        stats: IngestStats,
        *,
        source_name: str,
        flush_interval: float = 0.1,
        batch_rows: int = 5000,
        hold_seconds: float = HOLD_SECONDS,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        on_connected: Callable[[float, float | None], None] | None = None,
        on_worker_online: Callable[[str], None] | None = None,
        startup_gap: GapRecord | None = None,
        lossless_reconnect: bool = False,
    ) -> None:
        self.buffer = buffer
        self.out = out
        self.redactor = redactor
        self.stats = stats
        self.source_name = source_name
        self.flush_interval = flush_interval
        self.batch_rows = batch_rows
        self.holdback = HoldBack(hold_seconds)
        self.max_event_bytes = max_event_bytes
        self.on_connected = on_connected
        self.on_worker_online = on_worker_online
        self.pending_gap = startup_gap
        self.lossless_reconnect = lossless_reconnect
        self.reader = RespReader()
        self.batch = Batch()
        self.tally = Tally()
        self.rate = RateWindow()
        self.labels: OrderedDict[str, tuple[str, str, float | None]] = OrderedDict()
        self.liveness = WorkerLiveness()
        self.last_event_at: float | None = None
        self.disconnected_at: float | None = None
        self.connected_since: float | None = None
        self.broker_watch: BrokerWatch | None = None  # set by the ingester on Redis
        self.stop_requested = threading.Event()
        self.finished = threading.Event()
        self.cpu_s = 0.0  # CPU time of the processor thread so far: the decode path
        self.thread = threading.Thread(target=self._run, name="events-processor", daemon=True)

    # ---- thread --------------------------------------------------------------------------

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        next_expiry = 0.0
        try:
            while True:
                timeout = max(0.0, self.flush_interval - (time.monotonic() - self.batch.started))
                items = self.buffer.take(timeout=min(timeout, 0.1) if self.batch else 0.2)
                for item in items:
                    self._handle(item)
                self.stats.set_buffered(self.buffer.size)
                if self.batch:
                    if len(self.batch.tasks) - self.batch.carried_rows >= self.batch_rows:
                        self._flush()
                    elif time.monotonic() - self.batch.started >= self.flush_interval:
                        # while the writer is busy and events keep coming, keep folding them
                        # (bigger batches, fewer rows); with nothing to fold, wait for it
                        self._flush(wait=not items)
                if not items and self.buffer.empty() and self.stop_requested.is_set():
                    break
                if time.monotonic() >= next_expiry and self.buffer.size < _NEAR_REAL_TIME:
                    next_expiry = time.monotonic() + 1.0
                    self._expire_workers(time.time())
                self.cpu_s = time.thread_time()
            self._flush(everything=True)
        except Exception:  # pragma: no cover - a bug here must not pass silently
            log.exception("event processor crashed")
            raise
        finally:
            self.cpu_s = time.thread_time()
            self.finished.set()

    def _flush(self, wait: bool = True, everything: bool = False) -> None:
        """Hand the batch to the writer, but for the unfinished rows that may still wait."""
        if not self.batch:
            self.batch = Batch()
            return
        if not wait and self.out.full():  # we are its only producer: it stays full
            return
        received = self.batch.events - self.batch.carried_events
        newest = self.batch.newest_event_at
        batch, waiting = self.holdback.split(self.batch, time.monotonic(), everything=everything)
        if batch:
            while True:  # backpressure: wait for the writer, the buffer absorbs the stream
                try:
                    self.out.put(batch, timeout=0.5)
                    break
                except queue.Full:
                    continue
        if newest is not None:
            self.rate.add(newest, received)
        self.stats.add_tally(self.tally)
        self.tally = Tally()
        self.batch = waiting

    # ---- synchronous use (replays, tests): no threads ---------------------------------------

    def process_payload(self, data: bytes) -> None:
        """Decode one Redis pub/sub payload (a kombu envelope) into the current batch."""
        self._payloads([data])

    def take_batch(self) -> Batch:
        """The batch built so far (counters folded into `stats`), and start a new one."""
        self.stats.add_tally(self.tally)
        self.tally = Tally()
        batch, self.batch = self.batch, Batch()
        return batch

    # ---- items ---------------------------------------------------------------------------

    def _handle(self, item: Any) -> None:
        if isinstance(item, bytes):
            reader = self.reader
            self._payloads(reader.messages(item))
            if reader.broken is not None:
                log.error("unexpected reply on the event subscription: %s", reader.broken)
                self.tally.malformed["bad_stream"] += 1
                reader.broken = None
        elif isinstance(item, AmqpBody):
            try:
                events = decode_body(
                    item.body, item.content_type, item.compression, self.max_event_bytes
                )
            except MalformedEvent as exc:
                self.tally.malformed[exc.reason] += 1
                return
            self._events(events)
        elif isinstance(item, Synthetic):
            for row in item.tasks:
                self.batch.add_task(row)
            for row in item.workers:
                self.batch.add_worker(row)
        elif isinstance(item, Connected):
            self._connected(item)
        elif isinstance(item, Disconnected):
            self.reader.reset(resync=False)
            if self.disconnected_at is None:
                self.disconnected_at = item.at
                if not self.lossless_reconnect:
                    start = self.last_event_at or item.at
                    self.pending_gap = GapRecord(
                        start, None, f"lost the {item.source} subscription: {item.reason}",
                        None, item.source,
                    )  # fmt: skip
            self.connected_since = None
        elif isinstance(item, Overflow):
            self.reader.reset(resync=True)
            self.stats.count_dropped(item.dropped_messages)
            reason = (
                f"ingest buffer full (database too slow): dropped {item.dropped_bytes} bytes, "
                f"about {item.dropped_messages} messages"
            )
            self._record_gap(GapRecord(
                item.started, item.ended, reason, item.dropped_messages, "buffer",
            ))  # fmt: skip

    def _connected(self, item: Connected) -> None:
        self.reader.reset(resync=False)
        gap_started = None
        if self.pending_gap is not None:
            gap = self.pending_gap
            gap_started = gap.started_at
            if gap.ended_at is None:
                gap.ended_at = max(item.at, gap.started_at)
            if gap.estimated_missed is None:
                gap.estimated_missed = int(self.rate.rate() * (gap.ended_at - gap.started_at))
            self._record_gap(gap)
            self.pending_gap = None
        self.disconnected_at = None
        self.connected_since = item.at
        if self.on_connected is not None:
            self.on_connected(item.at, gap_started)

    def _record_gap(self, gap: GapRecord) -> None:
        log.warning(
            "event gap recorded: %s (about %s events missed)", gap.reason, gap.estimated_missed
        )
        self.stats.count_gap(gap.estimated_missed)
        self.batch.gaps.append(gap)

    def _payloads(self, payloads: list[bytes]) -> None:
        """Decode Redis pub/sub payloads (kombu envelopes) into the batch, in one loop."""
        malformed, max_bytes, handle = self.tally.malformed, self.max_event_bytes, self._events
        for payload in payloads:
            try:
                events = decode_envelope(payload, max_bytes)
            except MalformedEvent as exc:
                malformed[exc.reason] += 1
                continue
            handle(events)

    def _events(self, events: list[Any]) -> None:
        for event in events:
            try:
                self._event(event)
            except MalformedEvent as exc:
                self.tally.malformed[exc.reason] += 1
            except Exception:
                log.exception("event skipped")
                self.tally.malformed["unexpected"] += 1

    def _event(self, event: Any) -> None:
        if not isinstance(event, dict):
            raise MalformedEvent("bad_body", "event is not an object")
        kind = event.get("type")
        if kind in TASK_EVENT_STATES:
            row = task_row_from_event(event, self.redactor)
            self.batch.add_task_event(row)
            self._count_task(kind, event, row)
            at = row.state_changed_at or 0.0
        elif kind in WORKER_EVENT_STATUS:
            wrow = worker_row_from_event(event)
            self.batch.add_worker(wrow)
            self._track_worker(kind, wrow)
            at = wrow.status_at
        elif kind == GROUP_EVENT:
            row = group_row_from_event(event)
            self.batch.add_task_event(row)
            at = row.first_seen_at
        elif kind in KNOWN_OTHER_TYPES:
            at = time.time()
        else:
            raise MalformedEvent("unknown_type", str(kind)[:64])
        counts = self.tally.events
        counts[kind] = counts.get(kind, 0) + 1
        batch = self.batch
        batch.events += 1
        if batch.newest_event_at is None or at > batch.newest_event_at:
            batch.newest_event_at = at
        if self.last_event_at is None or at > self.last_event_at:
            self.last_event_at = at

    # ---- counters and workers ------------------------------------------------------------

    def _count_task(self, kind: str, event: dict[str, Any], row: TaskRow) -> None:
        labels = self.labels
        known = labels.get(row.task_id)
        if kind == "task-sent" or (kind == "task-received" and known is None):
            published = row.sent_at if kind == "task-sent" else row.received_at
            known = (row.name or "", row.queue or "", published)
            labels[row.task_id] = known
            if len(labels) > LABEL_CACHE_SIZE:
                labels.popitem(last=False)
        name, task_queue, published = known or (row.name or "", "", None)
        host = row.worker
        if host is None:
            host = event.get("hostname")
            host = host[:255] if host.__class__ is str else ""
        key = (name, host, task_queue)
        tally = self.tally
        counted = (_KIND[kind], key)
        tally.tasks[counted] = tally.tasks.get(counted, 0) + 1
        if kind == "task-started":
            if published is not None and row.started_at is not None:
                tally.waits.append((key, max(0.0, row.started_at - published)))
        elif kind == "task-succeeded":
            labels.pop(row.task_id, None)
            if row.reported_runtime is not None:
                tally.runtimes.append((key, row.reported_runtime))
        elif kind == "task-failed":
            labels.pop(row.task_id, None)
            tally.failures[(key, row.exception)] += 1
        elif kind == "task-revoked":
            labels.pop(row.task_id, None)

    # ---- workers ---------------------------------------------------------------------------

    def _track_worker(self, kind: str, row: WorkerRow) -> None:
        if not self.liveness.saw(row):
            return  # an older event than what we know
        if kind == "worker-online" and self.on_worker_online is not None:
            self.on_worker_online(row.hostname)
        elif kind == "worker-offline":
            # A clean shutdown (the worker said goodbye): its running tasks were interrupted,
            # not lost; with acks_late the broker delivers them again.
            self.batch.lost_checks.append(LostCheck(
                row.hostname, row.status_at,
                f"interrupted by shutdown: worker {row.hostname} shut down cleanly "
                "(worker-offline) while the task was running; with acks_late it is delivered "
                "again, otherwise it did not finish", state=UNKNOWN,
            ))  # fmt: skip

    def seed_workers(self, rows: list[WorkerRow]) -> None:
        self.liveness.seed(rows)

    def online_workers(self) -> int:
        return self.liveness.online()

    def _expire_workers(self, now: float) -> None:
        if self.connected_since is None:
            return
        since = self.connected_since
        if self.broker_watch is not None:
            answering = self.broker_watch.answering_since
            if answering is None:
                return  # the broker is stalled: every worker's silence is its silence
            since = max(since, answering)
        for row, check in self.liveness.expire(now, since):
            self.batch.add_worker(row)
            self.batch.lost_checks.append(check)
