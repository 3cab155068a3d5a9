"""Queue depth from the broker: one interface, a Redis and an AMQP implementation.

The broker is the truth for depth; the scheduler samples it and caches the result, so page
views and scrapes never fan out into broker round trips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import redis

from controlplane.errors import BrokerUnavailable

# Celery's Redis transport keeps each priority level in its own list, named
# "<queue>\x06\x16<priority>" (priority 0 is the bare name), so depth is their sum.
PRIORITY_SEP = "\x06\x16"
UNACKED_KEY = "unacked"

# One round trip for every queue: LLEN of the base list and all priority sub-lists, summed on
# the server, and the reserved (unacked) messages counted per routing key.
_DEPTH_SCRIPT = """
local sep = ARGV[1]
local out = {}
for i, q in ipairs(KEYS) do
  local n = redis.call('LLEN', q)
  for p = 1, 9 do n = n + redis.call('LLEN', q .. sep .. p) end
  out[i] = n
end
local unacked = {}
if ARGV[2] == '1' then
  local values = redis.call('HVALS', ARGV[3])
  for _, v in ipairs(values) do
    local ok, decoded = pcall(cjson.decode, v)
    if ok and type(decoded) == 'table' and decoded[3] then
      local rk = tostring(decoded[3])
      unacked[rk] = (unacked[rk] or 0) + 1
    end
  end
end
local flat = {}
for rk, n in pairs(unacked) do table.insert(flat, rk); table.insert(flat, n) end
return {out, flat}
"""


@dataclass(frozen=True)
class QueueDepth:
    """Messages in one queue: waiting, held by workers unacked, and held by workers with an ETA."""

    queue: str
    ready: int
    unacked: int = 0
    scheduled: int = 0
    consumers: int | None = None  # known to AMQP; Redis learns it from the workers

    @property
    def total(self) -> int:
        return self.ready + self.unacked + self.scheduled


class Broker(Protocol):
    url: str

    def ping(self) -> None: ...

    def depths(self, queues: Iterable[str]) -> dict[str, QueueDepth]: ...

    def close(self) -> None: ...


class RedisBroker:
    """Depth of Celery queues on Redis, every queue in a single scripted round trip."""

    def __init__(self, url: str, socket_timeout: float = 2.0, key_prefix: str = "") -> None:
        self.url = url
        self.key_prefix = key_prefix  # kombu's `global_keyprefix` transport option
        self.client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._script = self.client.register_script(_DEPTH_SCRIPT)

    def ping(self) -> None:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"redis broker did not answer: {exc}") from None

    def depths(self, queues: Iterable[str]) -> dict[str, QueueDepth]:
        names = list(dict.fromkeys(queues))
        if not names:
            return {}
        keys = [self.key_prefix + name for name in names]
        try:
            ready, flat = self._script(
                keys=keys, args=[PRIORITY_SEP, "1", self.key_prefix + UNACKED_KEY]
            )
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"redis broker did not answer: {exc}") from None
        unacked: dict[str, int] = {}
        for index in range(0, len(flat), 2):
            unacked[_text(flat[index])] = int(flat[index + 1])
        return {
            name: QueueDepth(name, int(count), unacked.get(name, 0))
            for name, count in zip(names, ready, strict=True)
        }

    def close(self) -> None:
        self.client.close()


class AmqpBroker:
    """Depth and consumer count of RabbitMQ queues through a passive declare."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout

    def _connection(self) -> Any:
        from kombu import Connection

        return Connection(self.url, connect_timeout=self.timeout)

    def ping(self) -> None:
        try:
            with self._connection() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - kombu raises many types for "down"
            raise BrokerUnavailable(f"amqp broker did not answer: {exc}") from None

    def depths(self, queues: Iterable[str]) -> dict[str, QueueDepth]:
        from amqp.exceptions import NotFound

        result: dict[str, QueueDepth] = {}
        try:
            with self._connection() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout)
                channel = connection.channel()
                for name in dict.fromkeys(queues):
                    try:
                        _, ready, consumers = channel.queue_declare(name, passive=True)
                    except NotFound:
                        channel = connection.channel()  # the server closed the channel
                        result[name] = QueueDepth(name, 0, consumers=0)
                        continue
                    result[name] = QueueDepth(name, int(ready), consumers=int(consumers))
        except BrokerUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise BrokerUnavailable(f"amqp broker did not answer: {exc}") from None
        return result

    def close(self) -> None:
        pass


def broker_for(url: str) -> Broker:
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        return RedisBroker(url)
    if scheme in ("amqp", "amqps", "pyamqp"):
        return AmqpBroker(url)
    raise ValueError(f"unsupported broker URL scheme {scheme!r}")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
