"""Whether a name is a queue of the fleet: checked before a purge deletes anything.

A purge on Redis deletes keys by name; one of a key that is not a queue (kombu's bindings, an
application's own data on the same Redis) used to be gone even when the purge "failed". A queue
of the fleet is one the console is configured with, one a known worker consumes, a paused one,
or one bound in kombu's bindings (Redis) or declared on the server (AMQP); on Redis its lists
(the queue and its priority sub-lists) must also be lists, or absent.
"""

from __future__ import annotations

import json
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.errors import ActionError, NotFound
from controlplane.fleet.pauses import paused_names
from controlplane.models import Worker
from controlplane.services import Services

BINDING_PREFIX = "_kombu.binding."
MAX_BINDING_KEYS = 2000  # exchanges looked at for a binding; a fleet has a handful


def known_queue_names(services: Services, session: Session) -> set[str]:
    """Configured, consumed by a worker the console knows, or paused."""
    names = set(services.settings.queues) | set(paused_names(session))
    for text in session.scalars(select(Worker.queues).where(Worker.queues.is_not(None))):
        try:
            consumed = json.loads(text or "[]")
        except ValueError:
            continue
        if isinstance(consumed, list):
            names.update(q for q in consumed if isinstance(q, str))
    return names


def check_fleet_queue(services: Services, session: Session, queue: str) -> None:
    """NotFound unless `queue` is a queue of the fleet; ActionError when its keys are not lists."""
    url = services.settings.broker_url or ""
    if url.startswith(("redis://", "rediss://", "unix://")):
        _check_redis(services, session, queue, url)
    else:
        _check_declared(services, session, queue)


def _check_redis(services: Services, session: Session, queue: str, url: str) -> None:
    options = services.settings.broker_transport_options
    prefix, sep = options.global_keyprefix, options.sep
    client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        keys = [prefix + queue] + [f"{prefix}{queue}{sep}{step}" for step in range(1, 10)]
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.type(key)
            kinds = [_text(kind) for kind in pipe.execute()]
        wrong = [key for key, kind in zip(keys, kinds, strict=True) if kind not in ("list", "none")]
        if wrong:
            raise ActionError(
                f"{queue!r} is not a queue: the broker key {wrong[0][len(prefix) :]!r} is a "
                f"{kinds[keys.index(wrong[0])]}, not a list; nothing was deleted"
            )
        if queue in known_queue_names(services, session) or _bound(client, prefix, sep, queue):
            return
    finally:
        client.close()
    raise NotFound(f"{queue!r} is not a queue of the fleet (not configured, consumed or bound)")


def _bound(client: redis.Redis, prefix: str, sep: str, queue: str) -> bool:
    """Whether kombu's bindings route anything to `queue` (members: key<sep>pattern<sep>queue)."""
    suffix = sep + queue
    for index, key in enumerate(client.scan_iter(match=f"{prefix}{BINDING_PREFIX}*", count=500)):
        if index >= MAX_BINDING_KEYS:
            break
        if client.type(key) != b"set":
            continue
        if any(_text(member).endswith(suffix) for member in client.smembers(key)):
            return True
    return False


def _check_declared(services: Services, session: Session, queue: str) -> None:
    """AMQP: a queue the server has declared (a passive declare answers), or a known one."""
    if queue in known_queue_names(services, session):
        return
    from amqp.exceptions import NotFound as QueueMissing

    with services.celery.connection_for_write() as connection:
        try:
            connection.default_channel.queue_declare(queue, passive=True)
        except QueueMissing:
            raise NotFound(f"{queue!r} is not a queue of the fleet (not declared)") from None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
