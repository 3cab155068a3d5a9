"""Unfinished task rows wait a moment for their next events, so most tasks are written once.

A task's events arrive over its life: sent, received and started close together, then the
end when it finishes. Writing the row at each batch costs the database a new row version
and an entry in every index of `tasks` each time (on PostgreSQL the indexes are most of
the cost of a write). So when a batch goes to the writer, rows that are not yet in a final
state and have waited less than `seconds` stay behind and keep folding events; a task that
ends within that time costs one write. Final rows go at once, every row goes within
`seconds` (plus one flush interval), and at most `max_rows` wait (the oldest go first).
"""

from __future__ import annotations

from controlplane.events.batch import Batch
from controlplane.events.merge import TERMINAL_STATES

HOLD_SECONDS = 1.0  # how stale an in-flight state may be in the database
HOLD_MAX_ROWS = 20_000


class HoldBack:
    """Splits a batch into what is written now and what waits in the next batch."""

    def __init__(self, seconds: float = HOLD_SECONDS, max_rows: int = HOLD_MAX_ROWS) -> None:
        self.seconds = seconds
        self.max_rows = max_rows
        self._since: dict[str, float] = {}  # task id -> when its row first stayed behind

    def split(self, batch: Batch, now: float, *, everything: bool = False) -> tuple[Batch, Batch]:
        """(the batch to write, a new batch holding the rows that wait)."""
        if everything or self.seconds <= 0 or not batch.tasks or batch.lost_checks:
            # a lost check reads the stored rows: whatever waits must be stored first
            self._since.clear()
            return batch, Batch()
        since, kept = self._since, Batch()
        still: dict[str, float] = {}
        cutoff = now - self.seconds
        tasks = batch.tasks
        for task_id, row in tasks.items():
            if row.state in TERMINAL_STATES:
                continue
            first = since.get(task_id, now)
            if first > cutoff:
                still[task_id] = first
        if len(still) > self.max_rows:
            for task_id in list(still)[: len(still) - self.max_rows]:  # oldest first
                del still[task_id]
        counts = batch.task_events
        for task_id in still:
            kept.tasks[task_id] = tasks.pop(task_id)
            moved = counts.pop(task_id, 0)
            kept.task_events[task_id] = moved
            kept.events += moved
            batch.events -= moved
        kept.carried_rows, kept.carried_events = len(kept.tasks), kept.events
        self._since = still
        return batch, kept
