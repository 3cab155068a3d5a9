"""The dashboard: the alert strip, queue depths and worker status, live."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from controlplane.fleet import fleet_view
from controlplane.insights import insights
from controlplane.web.auth import role_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@role_required("viewer")
def index() -> Any:
    return render_template("dashboard.html")


@bp.get("/fragments/fleet")
@role_required("viewer")
def fleet_fragment() -> Any:
    services = current_app.extensions["controlplane"]
    view = fleet_view(services)
    succeeded, failed = insights(services).throughput.per_minute(last=5)
    return render_template("_fleet.html", fleet=view, succeeded=succeeded, failed=failed)
