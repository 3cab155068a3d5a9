"""Worker liveness: who answers a ping right now."""

from __future__ import annotations

from celery import Celery


def ping_workers(celery: Celery, timeout: float = 1.0) -> list[str]:
    """Hostnames of the workers that answered a broadcast ping within `timeout` seconds."""
    replies = celery.control.ping(timeout=timeout) or []
    hostnames: list[str] = []
    for reply in replies:
        hostnames.extend(reply.keys())
    return sorted(hostnames)
