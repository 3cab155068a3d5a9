"""The fleet view as JSON for /api/v1: the same figures the Queues and Workers pages show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from controlplane.autoscale.policy import Recommendation
from controlplane.clock import as_utc
from controlplane.fleet.view import FleetView


def sample_info(view: FleetView) -> dict[str, Any]:
    """When the figures were sampled and whether the broker answers."""
    return {
        "sampled_at": _iso(view.sampled_at),
        "stale": view.stale,
        "broker": view.broker.as_dict(),
    }


def queues(
    view: FleetView, recommended: Mapping[str, Recommendation] | None = None
) -> list[dict[str, Any]]:
    recommended = recommended or {}
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
            "recommendation": _recommendation(recommended.get(q.name)),
            "paused": None
            if q.pause is None
            else {
                "by": q.pause.by,
                "since": _iso(q.pause.since),
                "backlog_held": q.backlog,
                "held_by_workers": dict(q.pause.held_by_workers),
            },
        }
        for q in view.queues
    ]


def _recommendation(rec: Recommendation | None) -> dict[str, Any] | None:
    """The Queues page's recommended workers, the number /metrics exports, with its reason."""
    if rec is None:
        return None
    return {"workers": rec.workers, "reason": rec.reason, "unclamped": rec.unclamped}


def delayed_delivery(view: FleetView) -> dict[str, Any] | None:
    """RabbitMQ's native delayed delivery: ETA tasks counted for the vhost, queue unknown."""
    if view.delayed is None:
        return None
    return {
        "messages": view.delayed,
        "per_queue": None,
        "note": "ETA tasks in the celery_delayed_* queues; which queue each is for is in its "
        "routing key, which only consuming it would reveal",
    }


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
            "reserved": w.reserved,
            "scheduled": w.scheduled,
            "booted_at": _iso(w.booted_at),
            "held": None
            if w.held is None
            else {k: [list(t) for t in v] for k, v in w.held.items()},
            "limits": w.limits,
            "prefetch_count": w.prefetch_count,
        }
        for w in view.workers
    ]


def alerts(view: FleetView) -> list[dict[str, Any]]:
    return [a.as_dict() for a in view.alerts]


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


def _per_minute(per_second: float | None) -> float | None:
    return None if per_second is None else round(per_second * 60, 3)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
