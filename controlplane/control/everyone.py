"""Asking every worker, including ones the console has not seen yet.

A broadcast without a known list of hosts waits out its whole timeout. On Redis that leaves a
blocking read pending on the pooled connection it used, and the next command sent over that
connection gets its replies only when the read returns, often past its own timeout. So such a
broadcast gets a connection of its own.
"""

from __future__ import annotations

from typing import Any

from controlplane.services import Services


def ask_everyone(services: Services, method: str, *args: Any) -> dict[str, Any]:
    """{host: answer} to `inspect().<method>(*args)` from every worker within the timeout."""
    with services.celery.connection_for_write() as connection:
        inspect = services.celery.control.inspect(
            timeout=services.settings.inspect_timeout, connection=connection
        )
        replies = getattr(inspect, method)(*args) or {}
    return {str(host)[:255]: answer for host, answer in replies.items()}


def ask(services: Services, hostnames: list[str], method: str, *args: Any) -> dict[str, Any]:
    """The same question to exactly `hostnames`; it returns at the last answer."""
    if not hostnames:
        return {}
    inspect = services.celery.control.inspect(
        destination=hostnames, timeout=services.settings.inspect_timeout, limit=len(hostnames)
    )
    replies = getattr(inspect, method)(*args) or {}
    return {str(host)[:255]: answer for host, answer in replies.items()}
