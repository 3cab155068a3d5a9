"""JSON API: GET /api/v1/schedules, the schedules watched for missed runs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from controlplane.periodic.views import list_schedules
from controlplane.web.auth import api_role_required

bp = Blueprint("api_schedules", __name__, url_prefix="/api/v1")


@bp.get("/schedules")
@api_role_required("viewer")
def schedules() -> Any:
    found = list_schedules(current_app.extensions["controlplane"])
    return jsonify(schedules=[s.as_dict() for s in found])
