"""JSON API: GET /api/v1/schedules, the schedules watched for missed runs; POST
.../enable|disable for django-celery-beat entries when CONTROLPLANE_DJANGO_BEAT_WRITABLE is on."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify

from controlplane.periodic.django_beat_write import set_enabled
from controlplane.periodic.views import list_schedules
from controlplane.web.auth import api_role_required

bp = Blueprint("api_schedules", __name__, url_prefix="/api/v1")


@bp.get("/schedules")
@api_role_required("viewer")
def schedules() -> Any:
    found = list_schedules(current_app.extensions["controlplane"])
    return jsonify(schedules=[s.as_dict() for s in found])


def _set_enabled(schedule_id: int, enabled: bool) -> Any:
    services = current_app.extensions["controlplane"]
    result = set_enabled(services, g.api_user.username, schedule_id, enabled)
    return jsonify({**result.body, "action_id": result.action_id}), result.status


@bp.post("/schedules/<int:schedule_id>/enable")
@api_role_required("admin")
def enable(schedule_id: int) -> Any:
    return _set_enabled(schedule_id, True)


@bp.post("/schedules/<int:schedule_id>/disable")
@api_role_required("admin")
def disable(schedule_id: int) -> Any:
    return _set_enabled(schedule_id, False)
