"""Console forms for admin actions on queues and workers (purge, pool, consumers, shutdown)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from controlplane import control
from controlplane.control.action_log import ActionResult
from controlplane.fleet.health import find_worker
from controlplane.fleet.inspection import record_pool_size, refresh_worker
from controlplane.web.auth import role_required

bp = Blueprint("fleet_actions", __name__)


def _answer(result: ActionResult, message: str) -> tuple[str, int, dict[str, str]]:
    """The flash to show; a success also tells the live Queues/Workers region to refresh."""
    kind = "ok" if result.ok else "error"
    text = message if result.ok else result.body.get("error", "failed")
    headers = {"HX-Trigger": "fleet-changed"} if result.ok else {}
    return render_template("_flash.html", kind=kind, message=text), result.status, headers


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
    known = find_worker(services, hostname)
    size = known.concurrency if known else None
    if size is None and isinstance(delta, int):  # never inspected: learn where it starts
        report = refresh_worker(services, hostname)
        size = report.concurrency if report else None
    result = control.pool_resize(services, current_user.username, hostname, delta)
    if result.ok and size is not None:  # show the new size now, not at the next round
        record_pool_size(services, hostname, max(0, size + delta))
    return _answer(result, f"Pool of {hostname} changed by {delta:+d}." if result.ok else "")


@bp.post("/workers/<hostname>/consumers")
@role_required("admin")
def consumers(hostname: str) -> Any:
    services = current_app.extensions["controlplane"]
    queue = request.form.get("queue", "")
    if request.form.get("op") == "cancel":
        result = control.cancel_consumer(services, current_user.username, hostname, queue)
        message = f"{hostname} stopped consuming {queue}."
    else:
        result = control.add_consumer(services, current_user.username, hostname, queue)
        message = f"{hostname} now consumes {queue}."
    if result.ok:
        refresh_worker(services, hostname)
    return _answer(result, message)


@bp.post("/workers/<hostname>/shutdown")
@role_required("admin")
def shutdown(hostname: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = control.shutdown_worker(services, current_user.username, hostname)
    return _answer(result, f"Shutdown requested for {hostname}.")
