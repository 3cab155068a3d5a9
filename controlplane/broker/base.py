"""What every broker answers: the depth of a queue, and the interface the sampler calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class QueueDepth:
    """Messages in one queue: waiting, reserved by workers, and held by workers with an ETA.

    `unacked` excludes the ETA tasks counted in `scheduled`, so the three add up to the work
    the queue holds. It is None when the broker cannot tell (AMQP without the management API).
    `consumers` is None when the broker does not know it (Redis: it comes from the workers).
    """

    queue: str
    ready: int
    unacked: int | None = 0
    scheduled: int = 0
    consumers: int | None = None

    @property
    def total(self) -> int:
        return self.ready + (self.unacked or 0) + self.scheduled


class Broker(Protocol):
    url: str
    counts_unacked: ClassVar[bool]
    counts_consumers: ClassVar[bool]

    def ping(self) -> None: ...

    def depths(self, queues: Iterable[str]) -> dict[str, QueueDepth]: ...

    def close(self) -> None: ...
