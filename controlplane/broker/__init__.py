"""Queue depth from the broker: one interface, a Redis and an AMQP implementation.

The broker is the truth for depth; the scheduler samples it and caches the result, so page
views and scrapes never fan out into broker round trips.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from controlplane.broker.amqp import AmqpBroker
from controlplane.broker.base import Broker, QueueState
from controlplane.broker.redis import RedisBroker

__all__ = ["AmqpBroker", "Broker", "QueueState", "RedisBroker", "broker_for"]


def broker_for(url: str) -> Broker:
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        return RedisBroker(url)
    if scheme in ("amqp", "amqps", "pyamqp"):
        return AmqpBroker(url)
    raise ValueError(f"unsupported broker URL scheme {scheme!r}")
