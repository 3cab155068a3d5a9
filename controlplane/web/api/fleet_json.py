"""The fleet view as JSON for /api/v1: the same figures the Queues and Workers pages show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from controlplane.clock import as_utc
from controlplane.fleet.view import FleetView


def sample_info(view: FleetView) -> dict[str, Any]:
    """When the figures were sampled and whether the broker answers."""
    return {
        "sampled_at": _iso(view.sampled_at),
        "stale": view.stale,
        "broker": {
            "reachable": view.broker.reachable,
            "error": view.broker.error,
            "down_since": _iso(view.broker.down_since),
        },
    }


def queues(view: FleetView) -> list[dict[str, Any]]:
    return [
        {
            "name": q.name,
            "ready": q.ready,
            "unacked": q.reserved,
            "scheduled": q.scheduled,
            "consumers": q.consumers,
            "concurrency": q.processes,
            "rate_in_per_min": _per_minute(q.arrival_rate),
            "rate_out_per_min": _per_minute(q.completion_rate),
            "oldest_waiting_age_s": _round(q.waiting_seconds(view.now)),
            "no_consumer": q.no_consumer,
        }
        for q in view.queues
    ]


def workers(view: FleetView) -> list[dict[str, Any]]:
    return [
        {
            "hostname": w.hostname,
            "status": w.status,
            "shutdown": w.shutdown,
            "last_seen": _iso(w.last_seen),
            "heartbeat_age_s": _round(w.heartbeat_age),
            "concurrency": w.concurrency,
            "active": w.active,
            "processed": w.processed,
            "queues": list(w.queues),
            "registered": list(w.registered),
            "software": w.software,
            "pid": w.pid,
            "loadavg": w.loadavg,
        }
        for w in view.workers
    ]


def alerts(view: FleetView) -> list[dict[str, Any]]:
    return [
        {"kind": a.kind, "subject": a.subject, "message": a.message, "severity": a.severity}
        for a in view.alerts
    ]


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


def _per_minute(per_second: float | None) -> float | None:
    return None if per_second is None else round(per_second * 60, 3)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
