"""The WSGI server: waitress, with idle request threads woken newest-first.

waitress hands each request from its I/O thread to a pool of request threads through a
`threading.Condition`, whose `notify()` wakes the thread that has waited longest. With eight
threads and requests one after another, every request lands on a different, cold thread
(often on the other core): 0.15 ms of a 1.4 ms `POST /api/v1/tasks` (`bench/dispatch.py`).
Waking the thread that went idle last keeps the hot one busy; under load all threads still
work, since any idle thread takes the next request.
"""

from __future__ import annotations

import threading
from typing import Any

from waitress import create_server
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.task import ThreadedTaskDispatcher

DEFAULT_THREADS = 8
# waitress spills a response larger than `outbuf_overflow` (1 MB by default) to a temporary
# file before sending it; /metrics of a large fleet is a few MB (bench/scrape.py: 3.2 MB,
# 2 ms of disk round trip per scrape). Keep up to this much in memory instead.
OUTBUF_OVERFLOW = 16 * 1024 * 1024


class LifoCondition:
    """The `wait`/`notify`/`notify_all` of threading.Condition on `lock`, newest waiter first."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._waiters: list[threading.Lock] = []

    def wait(self) -> None:
        """Release the lock, sleep until notified, take the lock again (caller holds it)."""
        waiter = threading.Lock()
        waiter.acquire()
        self._waiters.append(waiter)
        self._lock.release()
        notified = False
        try:
            waiter.acquire()
            notified = True
        finally:
            self._lock.acquire()
            if not notified and waiter in self._waiters:  # interrupted before any notify:
                self._waiters.remove(waiter)  # a later notify must go to a thread that waits

    def notify(self, n: int = 1) -> None:
        for _ in range(min(n, len(self._waiters))):
            self._waiters.pop().release()

    def notify_all(self) -> None:
        self.notify(len(self._waiters))


class LifoTaskDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool, waking the most recently idle thread for the next request."""

    def __init__(self) -> None:
        super().__init__()
        self.queue_cv = LifoCondition(self.lock)


def make_server(
    app: Any, host: str, port: int, threads: int = DEFAULT_THREADS, **options: Any
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for `app` (not started: call `.run()`, stop with `.close()`)."""
    options.setdefault("outbuf_overflow", OUTBUF_OVERFLOW)
    dispatcher = LifoTaskDispatcher()
    dispatcher.set_thread_count(threads)
    # `_dispatcher` is waitress's hook for its own tests; tests/test_server.py checks it is used.
    return create_server(
        app, host=host, port=port, threads=threads, _dispatcher=dispatcher, **options
    )
