"""JSON API for alerts: acknowledge one firing instance, forget a lost worker.

GET /api/v1/alerts (the conditions and what holds now) is in `fleet`, beside queues and
workers; these are the state-changing calls, the same services as the console's buttons.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from controlplane import control
from controlplane.control.action_log import ActionResult
from controlplane.control.alerts import acknowledge_alert, forget_worker
from controlplane.errors import ActionError
from controlplane.web.api.tasks import json_body
from controlplane.web.auth import api_role_required

bp = Blueprint("api_alerts", __name__, url_prefix="/api/v1")


def _answer(result: ActionResult) -> tuple[Response, int]:
    body = dict(result.body)
    if result.action_id is not None:
        body.setdefault("action_id", result.action_id)
    return jsonify(body), result.status


@bp.post("/alerts/ack")
@api_role_required("operator")
def ack() -> Any:
    services = current_app.extensions["controlplane"]
    try:
        body = json_body()
        if not isinstance(body, dict):
            raise ActionError("the request body must be a JSON object")
    except ActionError as exc:
        raw = request.get_data(cache=True)[:200].decode("utf-8", "replace")
        return _answer(
            control.refuse(services, g.api_user.username, "alert_ack", None, {"body": raw}, exc)
        )
    result = acknowledge_alert(
        services, g.api_user.username, body.get("alert"), body.get("subject"),
        request.headers.get("Idempotency-Key"),
    )  # fmt: skip
    return _answer(result)


@bp.post("/workers/<hostname>/forget")
@api_role_required("admin")
def forget(hostname: str) -> Any:
    services = current_app.extensions["controlplane"]
    result = forget_worker(
        services, g.api_user.username, hostname, request.headers.get("Idempotency-Key")
    )
    return _answer(result)
