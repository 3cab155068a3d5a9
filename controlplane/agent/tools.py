"""What the agent interface can read, as JSON-able dicts: the same services the pages use.

Every answer is bounded (lists are capped, long texts cut) and carries what is stored, which
is already redacted (kwargs secrets) by the event ingester.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from controlplane.audit_runs import latest_summaries
from controlplane.autoscale.recommender import recommendations
from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.errors import ControlplaneError
from controlplane.fleet import task_history
from controlplane.fleet.view import FleetView, fleet_view
from controlplane.fleet.workflow import workflow_summaries
from controlplane.services import Services

MAX_ROWS = 200
MAX_TEXT = 4000  # a traceback or result shown to an agent is cut here


class NotInHistory(ControlplaneError):
    """A task id the console has never seen."""


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"… ({len(text) - MAX_TEXT} more characters)"


def _queue(queue: QueueState, view: FleetView, workers: int | None) -> dict[str, Any]:
    return {
        "name": queue.name,
        "ready": queue.ready,
        "reserved": queue.reserved,
        "scheduled": queue.scheduled,
        "backlog": queue.backlog,
        "consumers": queue.consumers,
        "in_per_min": round((queue.arrival_rate or 0) * 60, 2),
        "out_per_min": round((queue.completion_rate or 0) * 60, 2),
        "oldest_waiting_s": queue.waiting_seconds(view.now),
        "paused": None
        if queue.pause is None
        else {"by": queue.pause.by, "since": _iso(queue.pause.since), "held": queue.pause.held},
        "recommended_workers": workers,
    }


def fleet_status(services: Services) -> dict[str, Any]:
    """The fleet at a glance: broker, sample age, workers by status, backlog, alerts."""
    view = fleet_view(services)
    workers = {"online": 0, "late": 0, "offline": 0}
    for worker in view.workers:
        workers[worker.status] += 1
    return {
        "sampled_at": _iso(view.sampled_at),
        "stale": view.stale,
        "broker": view.broker.as_dict(),
        "workers": workers,
        "queues": len(view.queues),
        "backlog": sum(q.backlog for q in view.queues),
        "paused_queues": [q.name for q in view.queues if q.pause is not None],
        "delayed_delivery": view.delayed,
        "alerts": [
            {"kind": a.kind, "subject": a.subject, "message": a.message, "severity": a.severity}
            for a in view.alerts[:MAX_ROWS]
        ],
    }


def queue_depth(services: Services, queue: str | None = None) -> dict[str, Any]:
    """Every queue's depth (or one queue's), with its recommended workers."""
    view = fleet_view(services)
    queues = [q for q in view.queues if queue is None or q.name == queue]
    if queue is not None and not queues:
        return {"sampled_at": _iso(view.sampled_at), "queues": [],
                "note": f"no queue called {queue!r} is sampled"}  # fmt: skip
    wanted = recommendations(services, queues)
    return {
        "sampled_at": _iso(view.sampled_at),
        "reserved_known": view.counts_unacked,
        "queues": [
            _queue(q, view, wanted[q.name].workers if q.name in wanted else None)
            for q in queues[:MAX_ROWS]
        ],
    }


def task(services: Services, task_id: str) -> dict[str, Any]:
    """One task as history has it, with its relatives and its workflow's counts."""
    detail = task_history.task_detail(services, task_id)
    if detail is None:
        raise NotInHistory(f"no task with id {task_id!r} in history")
    body = detail.task.as_dict()
    for key in ("result", "exception", "traceback", "args", "kwargs"):
        body[key] = _cut(body[key])
    body["children"] = [child.task_id for child in detail.children]
    body["retried_as"] = [retry.task_id for retry in detail.retried_as]
    root = detail.task.root_id or detail.task.task_id
    summary = workflow_summaries(services, [root]).get(root)
    body["workflow"] = None if summary is None else {
        "root_id": root, "total": summary.total, "done": summary.done,
        "failed": summary.failed, "running": summary.running, "waiting": summary.waiting,
    }  # fmt: skip
    return body


def recent_failures(services: Services, minutes: int = 60, limit: int = 20) -> dict[str, Any]:
    """Tasks that failed in the last `minutes`, newest first (at most `limit`)."""
    minutes = max(1, min(int(minutes), 7 * 24 * 60))
    limit = max(1, min(int(limit), MAX_ROWS))
    since = utcnow() - timedelta(minutes=minutes)
    page = task_history.list_tasks(
        services, task_history.TaskFilter(state="FAILURE", since=since), limit=limit
    )
    return {
        "since": since.isoformat(),
        "failures": [
            {
                "task_id": t.task_id,
                "name": t.name,
                "queue": t.queue,
                "worker": t.worker,
                "exception": _cut(t.exception),
                "retries": t.retries,
                "finished_at": _iso(t.finished_at),
            }
            for t in page.tasks
        ],
        "more": page.next_cursor is not None,
    }


def audit_summary(services: Services) -> dict[str, Any]:
    """Each audited project's latest finished run: endpoints, offloaded, inline, coverage."""
    projects = []
    for summary in latest_summaries(services)[:MAX_ROWS]:
        latest = summary.latest
        projects.append(
            {
                "project": summary.project,
                "last_run": {
                    "id": summary.last_run.id,
                    "status": summary.last_run.status,
                    "started_at": _iso(summary.last_run.started_at),
                },
                "latest_finished": None
                if latest is None
                else {
                    "id": latest.id,
                    "finished_at": _iso(latest.finished_at),
                    "endpoints": latest.endpoints,
                    "offloaded": latest.offloaded,
                    "inline": latest.inline,
                    "inline_heavy": latest.inline_heavy,
                    "coverage_percent": latest.coverage,
                },
            }  # fmt: skip
        )
    return {"projects": projects}
