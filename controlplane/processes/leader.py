"""The scheduler's leader lock: any number of schedulers run, exactly one samples.

A Redis key set with NX and an expiry; the holder renews it several times per lifetime and
deletes it on shutdown, both by a script that first checks the value is still its own token.
A holder also stops believing it leads once its own clock says the lease ran out, so a
process that stalls (or loses Redis) never samples beside a new leader.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid

import redis

from controlplane.services import process_identity

log = logging.getLogger(__name__)

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def lock_key(database_url: str) -> str:
    """One lock per console database: installations sharing a Redis do not block each other."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return f"controlplane:scheduler-leader:{digest}"


class RedisLeaderLock:
    """SET key token NX PX ttl; renewed while held; released on stop."""

    def __init__(self, url: str, key: str, ttl: float, name: str | None = None) -> None:
        self.key = key
        self.ttl = ttl
        self.name = name or process_identity()
        self.token = f"{self.name}:{uuid.uuid4().hex[:8]}"
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)
        self._valid_until = 0.0
        self._lock = threading.Lock()
        self.reachable = True  # False while Redis does not answer

    @property
    def is_leader(self) -> bool:
        return time.monotonic() < self._valid_until

    def refresh(self) -> bool:
        """Acquire or renew; True when this process leads until the next refresh."""
        with self._lock:
            started = time.monotonic()
            ttl_ms = int(self.ttl * 1000)
            try:
                if self.is_leader and self._renew(keys=[self.key], args=[self.token, ttl_ms]):
                    held = True
                else:
                    held = bool(self.client.set(self.key, self.token, nx=True, px=ttl_ms))
                    held = held or self.client.get(self.key) == self.token.encode()
            except redis.RedisError as exc:
                if self.reachable:
                    log.warning("leader lock: redis unreachable: %s", exc)
                self.reachable = False
                return self.is_leader  # keep what is left of the lease, no more
            self.reachable = True
            was = self.is_leader
            # Count the lease from before the round trip: never believe in more than Redis grants.
            self._valid_until = started + self.ttl * 0.9 if held else 0.0
            if held and not was:
                log.info("leader lock acquired by %s", self.name)
            elif was and not held:
                log.warning("leader lock lost by %s", self.name)
            return held

    def holder(self) -> str | None:
        try:
            value = self.client.get(self.key)
        except redis.RedisError:
            return None
        return value.decode("utf-8", "replace") if value else None

    def release(self) -> None:
        with self._lock:
            if self._valid_until:
                try:
                    self._release(keys=[self.key], args=[self.token])
                    log.info("leader lock released by %s", self.name)
                except redis.RedisError as exc:
                    log.warning("leader lock: could not release (expires by itself): %s", exc)
            self._valid_until = 0.0
        self.client.close()


class LocalLeaderLock:
    """Always the leader: for a single process with no Redis to hold a lock (`up` on RabbitMQ)."""

    reachable = True

    def __init__(self, name: str | None = None) -> None:
        self.name = name or process_identity()
        self._held = True

    @property
    def is_leader(self) -> bool:
        return self._held

    def refresh(self) -> bool:
        return self._held

    def holder(self) -> str | None:
        return self.name if self._held else None

    def release(self) -> None:
        self._held = False
