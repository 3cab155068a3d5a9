"""The one way the console sends a control command and waits for the workers' replies.

Each such broadcast declares a new reply queue, and kombu's Redis transport keeps its binding
in an in-memory table of the connection after deleting the queue: on a pooled connection,
which lives as long as the console, that was 300-500 bytes per call, forever (the scheduler
asks every few seconds). A connection of its own takes them with it when the call ends. It
also keeps a broadcast that waits out its timeout from leaving a blocking read pending on a
pooled connection, which made the next inspection sent over it miss its replies.

`inspect().<method>(...)` and the control methods (`rate_limit`, `add_consumer`, `pool_grow`,
...) are all this broadcast: the command is the method's name on the wire and the arguments
are its keyword arguments there (`registered` takes `taskinfoitems`, `pool_grow` takes `n`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery

HOSTNAME_CHARS = 255  # a worker row's hostname column; replies are untrusted text


def ask(
    celery: Celery,
    hostnames: Sequence[str] | None,
    timeout: float,
    command: str,
    /,
    *,
    expected: int | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    """{host: answer} to `command` from exactly `hostnames` (None: every worker).

    With hostnames it returns at the last answer (`limit=` their number); to everyone it waits
    out `timeout`, or until `expected` workers have answered. An empty list asks nobody.
    """
    if hostnames is not None and not hostnames:
        return {}
    limit = len(hostnames) if hostnames else expected
    with celery.connection_for_write() as connection:
        replies = celery.control.broadcast(
            command, arguments=arguments, destination=list(hostnames) if hostnames else None,
            reply=True, timeout=timeout, limit=limit, connection=connection,
        ) or []  # fmt: skip
    return {
        str(host)[:HOSTNAME_CHARS]: answer
        for reply in replies
        if isinstance(reply, dict)
        for host, answer in reply.items()
    }
