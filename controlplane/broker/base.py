"""One queue's record, and the interface the sampler calls on every broker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class Pause:
    """A queue paused fleet-wide: who, since when, and the prefetched tasks workers still hold
    (Celery cannot take those back: they run when a slot frees)."""

    by: str
    since: datetime
    held_by_workers: tuple[tuple[str, int], ...] = ()

    @property
    def held(self) -> int:
        return sum(count for _, count in self.held_by_workers)


# Not frozen: a frozen dataclass sets each field through object.__setattr__ (about 1 µs per
# record of 11 fields), and a replica's scrape builds two per queue (bench/scrape.py: 500
# queues). Treat it as read-only all the same: every stage builds a new one.
@dataclass(slots=True)
class QueueState:
    """One queue, the same record from the broker's answer to the Queues page and /metrics.

    Each stage fills its part: the broker `ready`, `reserved` (and `consumers` where it knows
    them: RabbitMQ); the sampler `scheduled`, `oldest_waiting_at` and, on Redis, `consumers`
    from the alive workers; readers the alive `workers` consuming it with their pool
    `processes`, and the arrival and completion rates.

    - **backlog** = `ready + reserved`: tasks not started yet, deliverable now. `reserved`
      (kombu's "unacked") counts what workers prefetched and the ETA tasks whose time has come;
      ETA tasks not yet due are `scheduled`, not backlog. It is the autoscaler's B.
    - **rates** are tasks per second everywhere; pages convert where they say "/min".
    - `reserved` is None when the broker cannot tell (RabbitMQ without its management API);
      `consumers` is None when nobody has counted them yet.
    - `pause` is set by the fleet view when an operator paused the queue (control.queue_pause).
    """

    name: str
    ready: int = 0
    reserved: int | None = 0
    scheduled: int = 0
    consumers: int | None = None
    oldest_waiting_at: datetime | None = None
    workers: int = 0
    processes: int = 0
    arrival_rate: float | None = None
    completion_rate: float | None = None
    pause: Pause | None = None

    @property
    def backlog(self) -> int:
        return self.ready + (self.reserved or 0)

    @property
    def held(self) -> int:
        """Everything the queue holds: the backlog and the ETA tasks not yet due."""
        return self.backlog + self.scheduled

    @property
    def no_consumer(self) -> bool:
        """Ready work nobody consumes, by accident: a paused queue holds it on purpose."""
        return self.ready > 0 and not self.consumers and self.pause is None

    def waiting_seconds(self, now: datetime) -> float | None:
        """Age of the oldest task waiting to start; None when nothing waits."""
        if not self.backlog or self.oldest_waiting_at is None:
            return None
        return max(0.0, (now - self.oldest_waiting_at).total_seconds())


class Broker(Protocol):
    url: str
    counts_unacked: ClassVar[bool]
    counts_consumers: ClassVar[bool]

    def ping(self) -> None: ...

    def run_id(self) -> str | None:
        """An id the broker server changes when it restarts (None: it has none we can read)."""
        ...

    def depths(self, queues: Iterable[str]) -> dict[str, QueueState]: ...

    def delayed(self) -> int | None:
        """Messages waiting in the broker's own delay queues, for no known queue (None: none)."""
        ...

    def close(self) -> None: ...
