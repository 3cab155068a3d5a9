"""The JSON API under /api/v1: bearer tokens, JSON answers with an `error` on failure."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from controlplane.alerting.history import STATES, list_states
from controlplane.autoscale.recommender import recommendations
from controlplane.fleet.alerts import CONDITIONS
from controlplane.fleet.view import fleet_view
from controlplane.web.api import fleet_json
from controlplane.web.auth import api_role_required

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(404)
def not_found(_error: Any) -> Any:
    return jsonify(error="not found"), 404


@bp.errorhandler(405)
def method_not_allowed(_error: Any) -> Any:
    return jsonify(error="method not allowed"), 405


@bp.get("/me")
@api_role_required("viewer")
def me() -> Any:
    return jsonify(username=g.api_user.username, role=g.api_user.role)


@bp.get("/queues")
@api_role_required("viewer")
def queues() -> Any:
    services = current_app.extensions["controlplane"]
    view = fleet_view(services)
    recommended = recommendations(services, view.queues)
    return jsonify(
        **fleet_json.sample_info(view),
        queues=fleet_json.queues(view, recommended),
        delayed_delivery=fleet_json.delayed_delivery(view),
    )


@bp.get("/workers")
@api_role_required("viewer")
def workers() -> Any:
    view = fleet_view(current_app.extensions["controlplane"])
    return jsonify(**fleet_json.sample_info(view), workers=fleet_json.workers(view))


@bp.get("/alerts")
@api_role_required("viewer")
def alerts() -> Any:
    """What holds now; `states`: the rules' alert states (alerting/), open ones unless
    `?state=` asks for pending, firing, resolved or all (the history)."""
    services = current_app.extensions["controlplane"]
    state = request.args.get("state") or None
    if state is not None and state not in (*STATES, "all"):
        return jsonify(error=f"state: expected one of {', '.join(STATES)} or all"), 400
    view = fleet_view(services)
    return jsonify(
        **fleet_json.sample_info(view),
        all_clear=view.all_clear,
        alerts=fleet_json.alerts(view),
        conditions=[c.as_dict(services.settings) for c in CONDITIONS],
        states=[s.as_dict() for s in list_states(services, state)],
    )
