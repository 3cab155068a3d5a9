"""Queues and Workers pages: the page, or just its live partial when htmx asks for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template

from controlplane.autoscale.recommender import recommendations
from controlplane.clock import as_utc
from controlplane.fleet.health import format_age
from controlplane.fleet.view import fleet_view
from controlplane.web import htmx
from controlplane.web.auth import role_required
from controlplane.web.charts import HEIGHT, WIDTH, sparkline_points

bp = Blueprint("fleet", __name__)


@bp.app_template_filter("age")
def age_filter(seconds: float | None) -> str:
    return format_age(seconds)


@bp.app_template_filter("utc")
def utc_filter(moment: datetime | None) -> str:
    value = as_utc(moment)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


@bp.app_template_filter("sparkline")
def sparkline_filter(values: Any) -> str:
    return sparkline_points(values or ())


@bp.app_context_processor
def fleet_globals() -> dict[str, Any]:
    services = current_app.extensions["controlplane"]
    poll = max(2, round(services.settings.sample_interval))
    return {"fleet_poll_seconds": poll, "spark_width": WIDTH, "spark_height": HEIGHT}


def _page_or_partial(page: str, partial: str, **context: Any) -> Response:
    response = make_response(render_template(partial if htmx else page, **context))
    response.headers["Vary"] = "HX-Request"
    return response


@bp.get("/queues")
@role_required("viewer")
def queues() -> Response:
    services = current_app.extensions["controlplane"]
    view = fleet_view(services, sparklines=True)
    recommended = recommendations(services, view.queues)
    return _page_or_partial("queues.html", "_queues.html", fleet=view, recommended=recommended)


@bp.get("/workers")
@role_required("viewer")
def workers() -> Response:
    view = fleet_view(current_app.extensions["controlplane"])
    return _page_or_partial("workers.html", "_workers.html", fleet=view)
