"""Asking the workers from an action: every worker, or exactly the ones named.

Both go through broker.replies.ask (a connection of its own per call). A broadcast to
everyone has no list of hosts to wait for, so it waits out the whole timeout.
"""

from __future__ import annotations

from typing import Any

from controlplane.broker import replies
from controlplane.services import Services


def ask_everyone(services: Services, command: str, **arguments: Any) -> dict[str, Any]:
    """{host: answer} to `command` from every worker within the timeout."""
    return replies.ask(
        services.celery, None, services.settings.inspect_timeout, command, **arguments
    )


def ask(services: Services, hostnames: list[str], command: str, **arguments: Any) -> dict[str, Any]:
    """The same question to exactly `hostnames`; it returns at the last answer."""
    return replies.ask(
        services.celery, hostnames, services.settings.inspect_timeout, command, **arguments
    )
