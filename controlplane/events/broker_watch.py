"""Whether the broker answers at all, asked every second on a connection of its own.

Heartbeats travel through the broker: while it is stalled (hung, paused, swapping), every
worker falls silent at once, and the silence says nothing about the workers. The liveness
check asks this watch first and concludes nothing while the broker does not answer; once it
answers again, workers get a full heartbeat window to be heard before any is called lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
PING_EVERY = 1.0  # seconds between pings
PING_TIMEOUT = 1.0  # seconds a ping may take before the broker counts as not answering


class BrokerWatch:
    """A thread pinging the broker; `answering_since` is None while it does not answer."""

    def __init__(self, ping: Callable[[], object], every: float = PING_EVERY) -> None:
        self.ping = ping
        self.every = every
        self.answering_since: float | None = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="events-broker-watch", daemon=True)

    def start(self) -> BrokerWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.ping()
            except Exception as exc:
                if self.answering_since is not None:
                    log.warning("the broker does not answer (%s): no worker is judged lost "
                                "meanwhile", exc)  # fmt: skip
                self.answering_since = None
                continue
            if self.answering_since is None:
                log.info("the broker answers again")
                self.answering_since = time.time()


def redis_watch(url: str) -> BrokerWatch:
    """A watch over a Redis broker: PING on its own client with a short timeout."""
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=PING_TIMEOUT, socket_connect_timeout=PING_TIMEOUT
    )
    return BrokerWatch(client.ping)
