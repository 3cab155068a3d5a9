"""Console forms for admin actions on queues and workers (purge, pool, consumers, shutdown)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from controlplane import control
from controlplane.control.action_log import ActionResult
from controlplane.web.auth import role_required

bp = Blueprint("fleet_actions", __name__)


def _answer(result: ActionResult, message: str) -> tuple[str, int]:
    kind = "ok" if result.ok else "error"
    text = message if result.ok else result.body.get("error", "failed")
    return render_template("_flash.html", kind=kind, message=text), result.status


@bp.post("/queues/<queue>/purge")
@role_required("admin")
def purge(queue: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = control.purge_queue(
        services, current_user.username, queue, request.form.get("confirm")
    )
    return _answer(result, f"Purged {result.body.get('purged', 0)} message(s) from {queue}.")


@bp.post("/workers/<hostname>/pool")
@role_required("admin")
def pool(hostname: str) -> Any:
    services = current_app.extensions["controlplane"]
    try:
        delta: Any = int(request.form.get("delta", ""))
    except ValueError:
        delta = request.form.get("delta")
    result = control.pool_resize(services, current_user.username, hostname, delta)
    return _answer(result, f"Pool of {hostname} changed by {delta}.")


@bp.post("/workers/<hostname>/consumers")
@role_required("admin")
def consumers(hostname: str) -> Any:
    services = current_app.extensions["controlplane"]
    queue = request.form.get("queue", "")
    if request.form.get("op") == "cancel":
        result = control.cancel_consumer(services, current_user.username, hostname, queue)
        return _answer(result, f"{hostname} stopped consuming {queue}.")
    result = control.add_consumer(services, current_user.username, hostname, queue)
    return _answer(result, f"{hostname} now consumes {queue}.")


@bp.post("/workers/<hostname>/shutdown")
@role_required("admin")
def shutdown(hostname: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = control.shutdown_worker(services, current_user.username, hostname)
    return _answer(result, f"Shutdown requested for {hostname}.")
