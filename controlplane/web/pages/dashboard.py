"""The dashboard: the alert strip, queue depths and worker status, live; audit coverage."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from controlplane.audit_runs import latest_summaries
from controlplane.fleet.insights import insights
from controlplane.fleet.view import fleet_view
from controlplane.web.auth import role_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@role_required("viewer")
def index() -> Any:
    audits = latest_summaries(current_app.extensions["controlplane"])
    return render_template("dashboard.html", audits=audits)


@bp.get("/fragments/fleet")
@role_required("viewer")
def fleet_fragment() -> Any:
    services = current_app.extensions["controlplane"]
    view = fleet_view(services)
    succeeded, failed = insights(services).throughput.per_minute(last=5)
    return render_template("_fleet.html", fleet=view, succeeded=succeeded, failed=failed)
