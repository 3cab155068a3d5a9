"""The WSGI server: waitress, with idle request threads woken newest-first.

waitress hands each request from its I/O thread to a pool of request threads through a
`threading.Condition`, whose `notify()` wakes the thread that has waited longest. With eight
threads and requests one after another, every request lands on a different, cold thread
(often on the other core): 0.15 ms of a 1.4 ms `POST /api/v1/tasks` (`bench/dispatch.py`).
Waking the thread that went idle last keeps the hot one busy; under load all threads still
work, since any idle thread takes the next request.

`GET /healthz` has a thread of its own. When every request thread is busy (16 clients
searching), a liveness probe queued behind them would wait for one to finish, and a
Kubernetes probe with a one-second timeout would restart a console that is merely busy.
`/readyz` goes to the front of the queue instead: it asks the database and the broker, and
a slow database must not hold up the liveness answer.
"""

from __future__ import annotations

import threading
from collections import deque
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


LIVENESS_PATHS = frozenset({"/healthz"})
FIRST_IN_LINE_PATHS = frozenset({"/readyz"})


def _path_of(channel: Any) -> str | None:
    """The path of the request a queued waitress channel is about to serve."""
    requests = getattr(channel, "requests", None)
    return getattr(requests[0], "path", None) if requests else None


class LifoTaskDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool, waking the most recently idle thread for the next request;
    liveness probes are served by a thread of their own, readiness probes first in line."""

    def __init__(self) -> None:
        super().__init__()
        self.queue_cv = LifoCondition(self.lock)
        self.probes: deque[Any] = deque()
        self.probe_cv = threading.Condition(self.lock)
        self.probe_thread: threading.Thread | None = None
        self.stopping = False

    def add_task(self, task: Any) -> None:
        path = _path_of(task)
        if path in LIVENESS_PATHS:
            with self.lock:
                self._start_probe_thread()
                self.probes.append(task)
                self.probe_cv.notify()
            return
        if path in FIRST_IN_LINE_PATHS:
            with self.lock:
                self.queue.appendleft(task)
                self.queue_cv.notify()
            return
        super().add_task(task)

    def _start_probe_thread(self) -> None:
        """Started with the first probe (the caller holds the lock)."""
        if self.probe_thread is None:
            self.probe_thread = threading.Thread(
                target=self._serve_probes, name="waitress-probes", daemon=True
            )
            self.probe_thread.start()

    def _serve_probes(self) -> None:
        while True:
            with self.lock:
                while not self.probes and not self.stopping:
                    self.probe_cv.wait()
                if self.stopping:
                    return
                task = self.probes.popleft()
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        with self.lock:
            self.stopping = True
            self.probe_cv.notify_all()
            for task in self.probes:
                task.cancel()
            self.probes.clear()
        if self.probe_thread is not None:
            self.probe_thread.join(timeout)
        return bool(super().shutdown(cancel_pending, timeout))


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
