"""Console buttons on alerts: acknowledge a firing instance, forget a lost worker."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from controlplane.control.alerts import acknowledge_alert, forget_worker
from controlplane.fleet.health import format_age
from controlplane.fleet.view import fleet_view
from controlplane.web.auth import role_required

bp = Blueprint("alerts", __name__)


@bp.app_template_filter("measure")
def measure(value: float | None, unit: str) -> str:
    """An alert's number in its unit: 62 s, 80%, 70 tasks."""
    if value is None:
        return "—"
    if unit == "s":
        return format_age(value)
    if unit == "ratio":
        return f"{value:.0%}"
    return f"{round(value):,} {unit}"


@bp.post("/alerts/ack")
@role_required("operator")
def ack() -> Any:
    services = current_app.extensions["controlplane"]
    result = acknowledge_alert(
        services, current_user.username, request.form.get("alert"), request.form.get("subject")
    )
    if not result.ok:
        message = result.body.get("error", "failed")
        return render_template("_flash.html", kind="error", message=message), result.status
    return render_template("_alerts.html", fleet=fleet_view(services))


@bp.post("/workers/<hostname>/forget")
@role_required("admin")
def forget(hostname: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = forget_worker(services, current_user.username, hostname)
    kind = "ok" if result.ok else "error"
    message = f"Forgot {hostname}." if result.ok else result.body.get("error", "failed")
    return render_template("_flash.html", kind=kind, message=message), result.status
