"""Slow down repeated failed logins, per user name and per client address."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginThrottle:
    """Counts failures in a sliding window; past the limit, a key waits until the window clears.

    In-memory on purpose: it protects each console process; behind a load balancer each
    replica limits on its own, which still bounds guessing to a few tries per minute each.
    """

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float:
        """Seconds until these keys may try again; 0 when they may try now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._prune(key, now)
                if len(failures) >= self.max_failures:
                    wait = max(wait, failures[0] + self.window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(self._failures) > 100_000:  # bound memory under a spray of names
            self._failures.clear()
            failures = self._failures[key]
        return failures
