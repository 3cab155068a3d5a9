"""Which workers are alive: heartbeats in, LOST verdicts out.

A worker that is SIGKILLed or cut off from the broker sends no worker-offline event; it just
stops sending heartbeats (every `freq` seconds, 2 by default). Two missed heartbeats plus a
grace make it lost, and the tasks it was running with it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from controlplane.events.batch import LostCheck
from controlplane.events.merge import WorkerRow, micro

log = logging.getLogger(__name__)
HEARTBEAT_GRACE = 2.0  # seconds past two missed heartbeats before a worker counts as lost


@dataclass
class SeenWorker:
    """What expiry needs: the worker's own clock for ordering, ours for silence."""

    status: str
    at: float  # event time (the worker's clock) of the newest event
    freq: float
    seen: float  # our clock when that event was processed


class WorkerLiveness:
    """The newest event of every worker we know, and who has gone silent."""

    def __init__(self) -> None:
        self.workers: dict[str, SeenWorker] = {}

    def saw(self, row: WorkerRow) -> bool:
        """Note a worker event; False when it is older than what we know."""
        previous = self.workers.get(row.hostname)
        if previous is not None and previous.at > row.status_at:
            return False
        self.workers[row.hostname] = SeenWorker(row.status, row.status_at, row.freq or 2.0,
                                                time.time())  # fmt: skip
        return True

    def seed(self, rows: list[WorkerRow]) -> None:
        """Workers the database says are online, so expiry covers them too."""
        now = time.time()
        for row in rows:
            if row.hostname not in self.workers:
                self.workers[row.hostname] = SeenWorker(row.status, row.status_at,
                                                        row.freq or 2.0, now)  # fmt: skip

    def online(self) -> int:
        return sum(1 for seen in self.workers.values() if seen.status == "online")

    def expire(self, now: float, connected_since: float) -> list[tuple[WorkerRow, LostCheck]]:
        """Workers silent for two heartbeats (plus grace): their rows and lost-task checks.

        Silence is measured on our clock (a worker's clock may be off); the LOST time is put
        on the worker's clock, so it orders correctly against that worker's own events.
        """
        verdicts = []
        for hostname, seen in list(self.workers.items()):
            if seen.status != "online":
                continue
            window = 2 * seen.freq + HEARTBEAT_GRACE
            # after a (re)connect, give the worker a chance to answer the wake-up first
            if now < seen.seen + window or now < connected_since + window:
                continue
            lost_at = micro(seen.at + 2 * seen.freq)
            self.workers[hostname] = SeenWorker("lost", lost_at, seen.freq, now)
            row = WorkerRow(hostname, "lost", lost_at)
            row.offline_at = lost_at
            when = time.strftime("%H:%M:%S", time.gmtime(seen.at))
            check = LostCheck(
                hostname, lost_at,
                f"worker {hostname} stopped sending heartbeats after {when} UTC "
                f"(killed, or cut off from the broker) while the task was running",
            )  # fmt: skip
            verdicts.append((row, check))
            log.warning("worker %s missed its heartbeats; marking it lost", hostname)
        return verdicts
