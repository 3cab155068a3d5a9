"""Which names an operator may act on as a queue: never a key kombu or Celery keep for themselves.

The one policy for trigger, retry, purge, pause and consumer actions, for the sampler's queue
discovery from events and for /metrics labels. On Redis a queue is a list
named after it, so a "queue" called `unacked` makes kombu LPUSH onto its reservation hash and the
next worker that reserves a message dies with WRONGTYPE; on AMQP the same names are Celery's
event, mailbox and reply queues. Refused by pattern, not by a list of examples.
"""

from __future__ import annotations

import re
from typing import Any

from controlplane.config import Settings, TransportOptions
from controlplane.errors import ActionError

QUEUE_NAME = re.compile(r"[\w.:@\-]{1,255}")
DEFAULT_PRIORITY_SEP = "\x06\x16"

# (pattern, why) - matched case-insensitively against the whole name.
RESERVED: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), why)
    for pattern, why in (
        (r"unacked(_index|_mutex)?", "the Redis transport's reservation keys"),
        (r"_kombu\..*", "kombu's own keys (bindings, fanout)"),
        (r"celeryev.*", "Celery's event exchange and queues"),
        (r".*\.pidbox", "Celery's worker mailboxes (remote control)"),
        (r".*reply\.celery\.pidbox", "Celery's remote-control replies"),
        (r"celery-task(set)?-meta-.*", "the result backend's keys"),
        (r"amq\..*", "RabbitMQ's own (amq.* is reserved for the server)"),
    )
)


def reserved_reason(name: str, options: TransportOptions | None = None) -> str | None:
    """Why `name` is a broker key rather than a queue of the fleet, or None when it is not."""
    options = options or TransportOptions()
    for pattern, why in RESERVED:
        if pattern.fullmatch(name):
            return why
    for sep in {DEFAULT_PRIORITY_SEP, options.sep}:
        if sep and re.search(re.escape(sep) + r"\d+$", name):
            return "a priority sub-list of another queue"
    prefix = options.global_keyprefix
    if prefix and name.startswith(prefix):
        return f"a name under the transport's global_keyprefix {prefix!r}"
    return None


def check_queue_name(name: Any, settings: Settings, field: str = "queue") -> str:
    """`name` when an operator may act on it as a queue; else ActionError saying why not."""
    if not isinstance(name, str) or not QUEUE_NAME.fullmatch(name):
        raise ActionError(f"{field}: expected a queue name (letters, digits, . : @ - _)")
    why = reserved_reason(name, settings.broker_transport_options)
    if why:
        raise ActionError(f"{field}: {name!r} is reserved by the broker ({why}), not a queue")
    return name


__all__ = ["QUEUE_NAME", "check_queue_name", "reserved_reason"]
