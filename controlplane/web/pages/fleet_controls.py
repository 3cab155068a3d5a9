"""Console forms for fleet controls: pause/resume a queue, runtime rate and time limits.

Plain forms (they sit in tables of untrusted text, inside `hx-disable`): each answers with a
redirect back to the page it came from and a flash message, or with the message alone for an
htmx request. The same services as the JSON API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from controlplane.control import queue_pause, task_limits
from controlplane.control.action_log import ActionResult
from controlplane.web import htmx
from controlplane.web.auth import role_required

bp = Blueprint("fleet_controls", __name__)


def _answer(result: ActionResult, message: str) -> Any:
    kind = "ok" if result.ok else "error"
    text = message if result.ok else result.body.get("error", "failed")
    if htmx:
        return render_template("_flash.html", kind=kind, message=text), result.status
    flash(text, kind)
    return redirect(_back())


def _back() -> str:
    """The page the form came from (a local path only), else the Queues page."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("fleet.queues")


def _hosts(hosts: Any) -> str:
    return ", ".join(hosts) if hosts else "no worker"


@bp.post("/queues/<queue>/pause")
@role_required("admin")
def pause(queue: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = queue_pause.pause_queue(services, current_user.username, queue)
    body = result.body
    held = sum((body.get("held_by_workers") or {}).values())
    message = f"Paused {queue}: cancelled on {_hosts(body.get('cancelled_on'))}"
    if body.get("not_answered"):
        message += f"; not answered yet: {_hosts(body['not_answered'])} (told again when seen)"
    if held:
        message += f"; {held} prefetched task(s) stay with their workers and still run"
    return _answer(result, message + ".")


@bp.post("/queues/<queue>/resume")
@role_required("admin")
def resume(queue: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = queue_pause.resume_queue(services, current_user.username, queue)
    message = f"Resumed {queue} on {_hosts(result.body.get('resumed_on'))}."
    return _answer(result, message)


@bp.post("/task-limits/<task_name>/rate")
@role_required("operator")
def set_rate(task_name: str) -> Any:
    services = current_app.extensions["controlplane"]
    rate = request.form.get("rate_limit", "")
    result = task_limits.set_rate_limit(services, current_user.username, task_name, rate)
    shown = rate or "no limit"
    applied = _hosts(result.body.get("applied_on"))
    return _answer(result, f"Rate limit of {task_name} is now {shown} (on {applied}).")


@bp.post("/task-limits/<task_name>/time")
@role_required("admin")
def set_time(task_name: str) -> Any:
    services = current_app.extensions["controlplane"]
    soft, hard = request.form.get("soft", ""), request.form.get("hard", "")
    result = task_limits.set_time_limit(services, current_user.username, task_name, soft, hard)
    applied = _hosts(result.body.get("applied_on"))
    message = (
        f"Time limits of {task_name}: soft {soft or '—'} s, hard {hard or '—'} s (on {applied})."
    )
    return _answer(result, message)


@bp.post("/task-limits/<task_name>/rate/reset")
@role_required("operator")
def reset_rate(task_name: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = task_limits.reset_limit(services, current_user.username, task_name, "rate")
    return _answer(result, f"Rate limit of {task_name} is back to the code's value.")


@bp.post("/task-limits/<task_name>/time/reset")
@role_required("admin")
def reset_time(task_name: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = task_limits.reset_limit(services, current_user.username, task_name, "time")
    return _answer(result, f"Time limits of {task_name} are back to the code's values.")
