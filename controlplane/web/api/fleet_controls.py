"""JSON API for fleet controls: pause and resume queues, runtime rate and time limits.

The same services as the console (control.queue_pause, control.task_limits); POSTs honour an
`Idempotency-Key` header and every call, refusals included, is in the action log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify

from controlplane.control import queue_pause, task_limits
from controlplane.web.api.tasks import _admin, _idempotency_key, _services
from controlplane.web.auth import api_role_required, refused

bp = Blueprint("api_fleet_controls", __name__, url_prefix="/api/v1")


def _user() -> str:
    return str(g.api_user.username)


@bp.post("/queues/<queue>/pause")
@api_role_required("admin")
def pause(queue: str) -> Any:
    return _admin("pause_queue", queue, lambda _body: queue_pause.pause_queue(
        _services(), _user(), queue, _idempotency_key()))  # fmt: skip


@bp.post("/queues/<queue>/resume")
@api_role_required("admin")
def resume(queue: str) -> Any:
    return _admin("resume_queue", queue, lambda _body: queue_pause.resume_queue(
        _services(), _user(), queue, _idempotency_key()))  # fmt: skip


@bp.get("/task-limits")
@api_role_required("viewer")
def list_limits() -> Any:
    records = task_limits.limits(_services())
    return jsonify(limits=[record.as_dict() for record in records.values()])


@bp.post("/task-limits/<task_name>/rate")
@api_role_required("operator")
def set_rate(task_name: str) -> Any:
    return _admin("set_rate_limit", task_name, lambda body: task_limits.set_rate_limit(
        _services(), _user(), task_name, body.get("rate_limit"), _idempotency_key()))  # fmt: skip


@bp.post("/task-limits/<task_name>/time")
@api_role_required("admin")
def set_time(task_name: str) -> Any:
    return _admin("set_time_limit", task_name, lambda body: task_limits.set_time_limit(
        _services(), _user(), task_name, body.get("soft"), body.get("hard"),
        _idempotency_key()))  # fmt: skip


@bp.post("/task-limits/<task_name>/<which>/reset")
@api_role_required("operator")
def reset(task_name: str, which: str) -> Any:
    """Rate limits are reset by operators; time limits, like setting them, need an admin."""
    if which == "time" and not g.api_user.may("admin"):
        refused(_user(), "admin")
        return jsonify(error="resetting a time limit needs the admin role"), 403
    return _admin(f"reset_{which}_limit"[:32], task_name, lambda _body: task_limits.reset_limit(
        _services(), _user(), task_name, which, _idempotency_key()))  # fmt: skip
