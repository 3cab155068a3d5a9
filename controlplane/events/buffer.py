"""The bounded buffer between the receiving thread and the rest of the ingester.

The receiver only reads bytes off the socket and puts them here, so Redis never sees a slow
subscriber; the processor takes everything out in one call. When the database falls so far
behind that the buffer is full, what arrives is dropped and counted, and the processor is
told (an `Overflow` item) so the loss becomes a recorded gap, not a silent hole.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Connected:
    """The source is subscribed again from `at` on (epoch seconds)."""

    at: float
    source: str


@dataclass(frozen=True)
class Disconnected:
    """The source lost its subscription at `at`; nothing published from then on arrives."""

    at: float
    source: str
    reason: str


@dataclass(frozen=True)
class Overflow:
    """Items dropped because the buffer was full between `started` and `ended`."""

    started: float
    ended: float
    dropped_bytes: int
    dropped_messages: int


@dataclass(frozen=True)
class AmqpBody:
    """One AMQP message, undecoded."""

    body: bytes
    content_type: str | None
    compression: str | None


@dataclass(frozen=True)
class Synthetic:
    """Rows the ingester derived itself (reconciliation), to merge like events."""

    tasks: tuple[Any, ...]
    workers: tuple[Any, ...] = ()


class RawBuffer:
    """A FIFO of received items bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: deque[tuple[Any, int]] = deque()
        self._bytes = 0
        self._cond = threading.Condition()
        self._overflow_since: float | None = None
        self._dropped_bytes = 0
        self._dropped_messages = 0
        self.peak_bytes = 0

    @property
    def size(self) -> int:
        return self._bytes

    def put(self, item: Any, size: int = 0, messages: int = 1) -> bool:
        """Add `item`; False (and counted) when it does not fit."""
        with self._cond:
            if size and self._bytes + size > self.max_bytes:
                if self._overflow_since is None:
                    self._overflow_since = time.time()
                self._dropped_bytes += size
                self._dropped_messages += messages
                return False
            if self._overflow_since is not None:
                overflow = Overflow(
                    self._overflow_since, time.time(), self._dropped_bytes, self._dropped_messages
                )
                self._items.append((overflow, 0))
                self._overflow_since = None
                self._dropped_bytes = self._dropped_messages = 0
            self._items.append((item, size))
            self._bytes += size
            if self._bytes > self.peak_bytes:
                self.peak_bytes = self._bytes
            self._cond.notify()
            return True

    def put_marker(self, item: Any) -> None:
        """Markers always fit: they carry no payload."""
        self.put(item, 0)

    def take(self, timeout: float, max_bytes: int = 1 << 22) -> list[Any]:
        """Items in arrival order, up to about `max_bytes`; waits up to `timeout` for one."""
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)
            out: list[Any] = []
            taken = 0
            while self._items and taken < max_bytes:
                item, size = self._items.popleft()
                out.append(item)
                taken += size
            self._bytes -= taken
            return out

    def empty(self) -> bool:
        return not self._items
