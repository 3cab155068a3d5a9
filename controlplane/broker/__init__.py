"""Queue depth from the broker: one interface, a Redis and an AMQP implementation.

The broker is the truth for depth; the scheduler samples it and caches the result, so page
views and scrapes never fan out into broker round trips.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from controlplane.broker.amqp import AmqpBroker
from controlplane.broker.base import Broker, Pause, QueueState
from controlplane.broker.redis import RedisBroker
from controlplane.config import TransportOptions

__all__ = ["AmqpBroker", "Broker", "Pause", "QueueState", "RedisBroker", "broker_for"]


def broker_for(url: str, options: TransportOptions | None = None) -> Broker:
    """The depth reader for `url`, reading where the fleet's transport options put messages."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        options = options or TransportOptions()
        return RedisBroker(
            url,
            key_prefix=options.global_keyprefix,
            sep=options.sep,
            priority_steps=options.priority_steps,
        )
    if scheme in ("amqp", "amqps", "pyamqp"):
        return AmqpBroker(url)
    raise ValueError(f"unsupported broker URL scheme {scheme!r}")
