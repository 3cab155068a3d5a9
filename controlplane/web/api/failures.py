"""JSON API: failure groups (GET /api/v1/failure-groups, /api/v1/failure-groups/{id})."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from controlplane.failures.groups import BadGroupFilter, get_group, list_groups
from controlplane.web.auth import api_role_required

bp = Blueprint("api_failures", __name__, url_prefix="/api/v1")


@bp.get("/failure-groups")
@api_role_required("viewer")
def groups() -> Any:
    try:
        limit = int(request.args.get("limit", "50"))
        found = list_groups(
            current_app.extensions["controlplane"], request.args.get("state") or None, limit
        )
    except (BadGroupFilter, ValueError) as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(groups=[g.as_dict(with_sample=False) for g in found])


@bp.get("/failure-groups/<int:group_id>")
@api_role_required("viewer")
def group(group_id: int) -> Any:
    found = get_group(current_app.extensions["controlplane"], group_id)
    if found is None:
        return jsonify(error=f"no failure group {group_id}"), 404
    return jsonify(
        **found.group.as_dict(),
        not_retried=found.not_retried,
        not_retried_more=found.not_retried_more,  # counting stopped at bulk_max
        recent=[
            {"task_id": task_id, "failed_at": at.isoformat(), "retried": retried}
            for task_id, at, retried in found.recent
        ],
    )
