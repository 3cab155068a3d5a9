"""A thread that refreshes a replica's counters beside its scrapes, not on them.

A `serve` replica rebuilds its task counters from the database (`counters.DatabaseCounters`):
a few milliseconds on a fleet of 300 task names (bench/scrape.py), which a scrape paid each
time its counters were older than REFRESH_TTL, that is at every scrape of a Prometheus that
scrapes every 15 s. This thread refreshes them every REFRESH_TTL seconds instead, while the
replica is asked for them: what a scrape reads is as old as before (at most about
REFRESH_TTL), and a scrape that finds it older (the thread stalled, the database slow) still
refreshes it itself. Nobody asking for `idle_after` seconds stops the thread (a replica that
is not scraped does not poll the database); the next request starts it again.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Protocol

log = logging.getLogger(__name__)


class Refreshable(Protocol):
    def refresh(self) -> object:
        """Read afresh (the thread's work)."""

    def last_asked(self) -> float:
        """When (time.monotonic) a reader last asked for what `refresh` reads."""


class Refresher:
    """Calls `owner.refresh()` every `interval` seconds on a daemon thread, while asked."""

    def __init__(self, owner: Refreshable, interval: float, idle_after: float, name: str) -> None:
        # weak: the thread must not keep the owner (and its engine) alive once it is dropped
        self._owner = weakref.ref(owner)
        self.interval = interval
        self.idle_after = idle_after
        self.name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def ensure_running(self) -> None:
        with self._lock:
            if self.running or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop for good (the owner is closing); waits for a refresh under way."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            owner = self._owner()
            if owner is None or time.monotonic() - owner.last_asked() > self.idle_after:
                return
            try:
                owner.refresh()
            except Exception as exc:  # the next scrape refreshes itself and reports it
                log.warning("%s: refresh failed: %s", self.name, exc)
            del owner
