"""The bounded buffer between the receiving thread and the rest of the ingester.

The receiver only reads bytes off the socket and puts them here, so Redis never sees a slow
subscriber (it cuts off a subscriber whose output passes `client-output-buffer-limit pubsub`);
the processor takes them out in large slices. A burst bigger than the memory part goes to a
spool file on disk, so memory stays bounded and the burst is still not lost. When both are
full, what arrives is dropped and counted, and the processor is told (an `Overflow` item) so
the loss becomes a recorded gap, not a silent hole.
"""

from __future__ import annotations

import json
import os
import tempfile
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
    """A FIFO of received items: `max_bytes` in memory, then up to `spool_bytes` on disk.

    Once an item has gone to the spool file, every later one follows it there until the
    reader has caught up, so the order the processor sees is the order of arrival. Items
    put with `put_unordered` (reconciliation rows, which merge in any order) skip the line.
    """

    def __init__(self, max_bytes: int, spool_bytes: int = 0, spool_dir: str | None = None) -> None:
        self.max_bytes = max_bytes
        self.spool_bytes = spool_bytes
        self.spool_dir = spool_dir
        self._items: deque[tuple[Any, int]] = deque()
        self._bytes = 0
        self._cond = threading.Condition()
        self._overflow_since: float | None = None
        self._dropped_bytes = 0
        self._dropped_messages = 0
        self._spool: int | None = None  # file descriptor of an unlinked temporary file
        self._spool_write = 0
        self._spool_read = 0
        self.peak_bytes = 0
        self.peak_spool_bytes = 0

    @property
    def size(self) -> int:
        """Bytes waiting, in memory and on disk."""
        return self._bytes + self._spool_write - self._spool_read

    def put(self, item: Any, size: int = 0, messages: int = 1) -> bool:
        """Add `item`; False (and counted) when it fits neither in memory nor in the spool."""
        with self._cond:
            spooling = self._spool_write > self._spool_read
            if spooling or (size and self._bytes + size > self.max_bytes):
                if self._spool_write - self._spool_read + size + 64 > self.spool_bytes:
                    if self._overflow_since is None:
                        self._overflow_since = time.time()
                    self._dropped_bytes += size
                    self._dropped_messages += messages
                    return False
                self._flush_overflow(to_spool=True)
                self._spool_append(item)
            else:
                self._flush_overflow(to_spool=False)
                self._items.append((item, size))
                self._bytes += size
                if self._bytes > self.peak_bytes:
                    self.peak_bytes = self._bytes
            self._cond.notify()
            return True

    def put_marker(self, item: Any) -> None:
        """Markers carry no payload: they always fit, in arrival order."""
        self.put(item, 0)

    def put_unordered(self, item: Any) -> None:
        with self._cond:
            self._items.append((item, 0))
            self._cond.notify()

    def _flush_overflow(self, to_spool: bool) -> None:
        if self._overflow_since is None:
            return
        overflow = Overflow(
            self._overflow_since, time.time(), self._dropped_bytes, self._dropped_messages
        )
        self._overflow_since = None
        self._dropped_bytes = self._dropped_messages = 0
        if to_spool:
            self._spool_append(overflow)
        else:
            self._items.append((overflow, 0))

    def take(self, timeout: float, max_bytes: int = 1 << 21) -> list[Any]:
        """Items in arrival order, up to about `max_bytes`; waits up to `timeout` for one."""
        with self._cond:
            if not self._items and self._spool_write == self._spool_read:
                self._cond.wait(timeout)
            out: list[Any] = []
            taken = 0
            while self._items and taken < max_bytes:
                item, size = self._items.popleft()
                out.append(item)
                taken += size
            self._bytes -= taken
            if not out and self._spool_write > self._spool_read:
                out = self._spool_take(max_bytes)
            return out

    def empty(self) -> bool:
        return not self._items and self._spool_write == self._spool_read

    def close(self) -> None:
        with self._cond:
            if self._spool is not None:
                os.close(self._spool)
                self._spool = None

    # ---- the spool file: records of tag (1 byte), length (4 bytes), payload ------------------

    def _spool_append(self, item: Any) -> None:
        if self._spool is None:
            handle, path = tempfile.mkstemp(prefix="controlplane-events-", dir=self.spool_dir)
            os.unlink(path)  # gone from the directory; the space is freed when we close it
            self._spool = handle
        tag, payload = _encode(item)
        record = tag + len(payload).to_bytes(4, "big") + payload
        os.pwrite(self._spool, record, self._spool_write)
        self._spool_write += len(record)
        self.peak_spool_bytes = max(self.peak_spool_bytes, self._spool_write - self._spool_read)

    def _spool_take(self, max_bytes: int) -> list[Any]:
        assert self._spool is not None
        want = min(max_bytes, self._spool_write - self._spool_read)
        data = os.pread(self._spool, max(want, 5), self._spool_read)
        out: list[Any] = []
        pos = 0
        while pos + 5 <= len(data):
            length = int.from_bytes(data[pos + 1 : pos + 5], "big")
            if pos + 5 + length > len(data):
                if not out:  # one record larger than max_bytes: read it whole
                    record = os.pread(self._spool, 5 + length, self._spool_read)
                    out.append(_decode(record[:1], record[5:]))
                    pos = 5 + length
                break
            out.append(_decode(data[pos : pos + 1], data[pos + 5 : pos + 5 + length]))
            pos += 5 + length
        self._spool_read += pos
        if self._spool_read == self._spool_write:  # caught up: start the file over
            os.ftruncate(self._spool, 0)
            self._spool_read = self._spool_write = 0
        return out


def _encode(item: Any) -> tuple[bytes, bytes]:
    if isinstance(item, bytes):
        return b"R", item
    if isinstance(item, AmqpBody):
        head = json.dumps([item.content_type, item.compression]).encode()
        return b"A", len(head).to_bytes(4, "big") + head + item.body
    if isinstance(item, Connected | Disconnected | Overflow):
        fields = dict(item.__dict__, kind=type(item).__name__)
        return b"M", json.dumps(fields).encode()
    raise TypeError(f"cannot spool {type(item).__name__}")


_MARKERS: dict[str, Any] = {"Connected": Connected, "Disconnected": Disconnected,
                            "Overflow": Overflow}  # fmt: skip


def _decode(tag: bytes, payload: bytes) -> Any:
    if tag == b"R":
        return payload
    if tag == b"A":
        head_length = int.from_bytes(payload[:4], "big")
        content_type, compression = json.loads(payload[4 : 4 + head_length])
        return AmqpBody(payload[4 + head_length :], content_type, compression)
    fields = json.loads(payload)
    return _MARKERS[fields.pop("kind")](**fields)
