"""The writer thread: one transaction per batch, retried until the database takes it.

While the database is slow or down the writer keeps retrying the batch it holds, the
processor waits for it, and the RawBuffer absorbs the stream up to its bound; what does not
fit is dropped and recorded as a gap. Nothing here grows without limit.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from controlplane.events.batch import Batch, lost_row
from controlplane.events.merge import TaskRow, WorkerRow
from controlplane.events.stats import IngestStats
from controlplane.events.store import EventStore

log = logging.getLogger(__name__)
MAX_RETRY_WAIT = 5.0
CHECKPOINT_EVERY = 1.0
# Called in a batch's transaction with the ids of its rows that arrive as FAILURE (the
# failure groups' hook, wired by processes/ingest.py: events/ imports no feature)
FailureHook = Callable[[Connection, list[str], float], object]


class Writer:
    """Consumes Batches from `inbox` and writes them with EventStore."""

    def __init__(
        self,
        store: EventStore,
        inbox: queue.Queue[Batch],
        stats: IngestStats,
        *,
        checkpoint: Callable[[float, float | None], None] | None = None,
        on_failures: FailureHook | None = None,
    ) -> None:
        self.store = store
        self.inbox = inbox
        self.stats = stats
        self.checkpoint = checkpoint
        self.on_failures = on_failures
        self.stop_requested = threading.Event()
        self.last_event_at: float | None = None
        self.batches = 0
        self.errors = 0
        self.cpu_s = 0.0  # CPU time of the writer thread so far: the write path
        self.thread = threading.Thread(target=self._run, name="events-writer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        last_checkpoint = 0.0
        while True:
            try:
                batch = self.inbox.get(timeout=0.2)
            except queue.Empty:
                if self.stop_requested.is_set():
                    break
                batch = None
            if batch is not None:
                try:
                    self._write_with_retry(batch)
                finally:
                    self.inbox.task_done()
            self.cpu_s = time.thread_time()
            now = time.time()
            if self.checkpoint is not None and now - last_checkpoint >= CHECKPOINT_EVERY:
                last_checkpoint = now
                try:
                    self.checkpoint(now, self.last_event_at)
                except SQLAlchemyError as exc:
                    log.warning("could not record the ingester checkpoint: %s", exc)

    def _write_with_retry(self, batch: Batch) -> None:
        wait = 0.2
        while True:
            try:
                self.write(batch)
                return
            except SQLAlchemyError as exc:
                self.errors += 1
                first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
                self.stats.write_failed(f"{type(exc).__name__}: {first}", time.time())
                if self.stop_requested.is_set() and wait >= MAX_RETRY_WAIT:
                    log.error("giving up on a batch of %d events at shutdown: %s",
                              batch.events, exc)  # fmt: skip
                    return
                log.warning("database write failed (%s); retrying in %.1f s", exc, wait)
                time.sleep(wait)
                wait = min(MAX_RETRY_WAIT, wait * 2)

    def write(self, batch: Batch) -> None:
        """Merge the batch into what is stored: one transaction, and one more for the tasks
        its lost checks find (they read what the first one wrote; a merge commutes, so
        doing it apart changes nothing, and each transaction locks task rows in one
        ordered statement, which two ingesters cannot deadlock on)."""
        store = self.store
        now = time.time()
        if not batch.stored:  # a retry after the lost checks failed does not write it again
            with store.engine.begin() as connection:
                store.merge_tasks(connection, batch.tasks, now)
                if self.on_failures is not None:
                    failed = [i for i, row in batch.tasks.items() if row.state == "FAILURE"]
                    if failed:
                        self.on_failures(connection, failed, now)
                if batch.workers:
                    store.lock_workers(connection)
                    workers = store.load_workers(connection, batch.workers)
                    merged: list[WorkerRow] = []
                    for hostname, row in batch.workers.items():
                        stored = workers.get(hostname)
                        merged.append(stored.merge(row) if stored is not None else row)
                    store.save_workers(connection, merged, now)
                store.insert_gaps(connection, batch.gaps)  # (gaps are rows: write them once)
            batch.stored = True
        if batch.lost_checks:
            with store.engine.begin() as connection:
                lost: dict[str, TaskRow] = {}
                for check in batch.lost_checks:
                    for task_id in store.started_on(connection, check.hostname, check.before):
                        lost[task_id] = lost_row(task_id, check)
                if lost:
                    store.merge_tasks(connection, lost, now)
                    log.warning("marked %d task(s) lost", len(lost))
        self.batches += 1
        if batch.newest_event_at is not None and (
            self.last_event_at is None or batch.newest_event_at > self.last_event_at
        ):
            self.last_event_at = batch.newest_event_at
        self.stats.committed(batch.events, batch.newest_event_at, time.time())
