"""A batch: what the processor folded together for one write, and what the writer must check.

Every event of a batch is already merged into one row per task and per worker, so a task
whose sent/received/started/succeeded events arrive together costs one row to write.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from controlplane.events.merge import LOST, TaskRow, WorkerRow
from controlplane.events.store import GapRecord


@dataclass
class LostCheck:
    """Tasks STARTED on `hostname` at or before `before` are lost, for `reason`."""

    hostname: str
    before: float
    reason: str
    state: str = LOST  # UNKNOWN for a clean shutdown's interrupted tasks


@dataclass
class Batch:
    tasks: dict[str, TaskRow] = field(default_factory=dict)
    workers: dict[str, WorkerRow] = field(default_factory=dict)
    gaps: list[GapRecord] = field(default_factory=list)
    lost_checks: list[LostCheck] = field(default_factory=list)
    events: int = 0
    task_events: dict[str, int] = field(default_factory=dict)  # events folded into each row
    carried_rows: int = 0  # rows (and their events) that waited from the previous batch
    carried_events: int = 0
    newest_event_at: float | None = None
    started: float = field(default_factory=time.monotonic)
    stored: bool = False  # the writer committed it (all but its lost checks)

    def add_task(self, row: TaskRow) -> None:
        current = self.tasks.get(row.task_id)
        if current is None:
            self.tasks[row.task_id] = row
        else:
            current.merge(row)

    def add_task_event(self, row: TaskRow) -> None:
        """A task event's row: folded in, and counted toward that row (see holdback.py)."""
        self.add_task(row)
        counts = self.task_events
        counts[row.task_id] = counts.get(row.task_id, 0) + 1

    def add_worker(self, row: WorkerRow) -> None:
        current = self.workers.get(row.hostname)
        if current is None:
            self.workers[row.hostname] = row
        else:
            current.merge(row)

    def __bool__(self) -> bool:
        return bool(self.tasks or self.workers or self.gaps or self.lost_checks or self.events)


class RateWindow:
    """Events per second over the last few seconds of event time, for gap estimates."""

    def __init__(self, seconds: int = 3) -> None:
        self.seconds = seconds
        self.counts: deque[list[float]] = deque()  # [second, count]

    def add(self, at: float, amount: int = 1) -> None:
        second = int(at)
        if self.counts and self.counts[-1][0] == second:
            self.counts[-1][1] += amount
            return
        self.counts.append([second, amount])
        while self.counts and self.counts[0][0] < second - self.seconds:
            self.counts.popleft()

    def rate(self) -> float:
        if not self.counts:
            return 0.0
        newest = self.counts[-1][0]
        total = sum(count for second, count in self.counts if second >= newest - self.seconds)
        span = max(1.0, newest - self.counts[0][0] + 1)
        return total / span


def lost_row(task_id: str, check: LostCheck) -> TaskRow:
    row = TaskRow(task_id, check.state, check.before)
    row.worker = check.hostname
    row.finished_at = check.before
    row.lost_reason = check.reason
    return row
