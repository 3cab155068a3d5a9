"""JSON API for notifications (alerting/): rules, channels, silences, acknowledging an alert
by id, a test notification, and the notifications with their delivery status.

GET /api/v1/alerts (with `?state=` for the history) stays in `fleet`, beside queues and
workers; these are the same services as the Alerts page's forms.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from controlplane import control
from controlplane.alerting.actions import acknowledge_by_id, send_test
from controlplane.alerting.history import list_notifications
from controlplane.alerting.silences import create_silence, list_silences
from controlplane.alerting.store import (
    list_channels,
    list_rules,
    rule_as_dict,
    save_channel,
    save_rule,
)
from controlplane.errors import ActionError
from controlplane.fleet.alerts import CONDITIONS
from controlplane.web.api.alerts import _answer
from controlplane.web.api.tasks import json_body
from controlplane.web.auth import api_role_required

bp = Blueprint("api_alerting", __name__, url_prefix="/api/v1")

NOTIFICATION_STATUSES = ("pending", "delivered", "failed")


def _key() -> str | None:
    return request.headers.get("Idempotency-Key")


def _body_or_refusal(action: str) -> tuple[Any, tuple[Response, int] | None]:
    """The JSON object posted, or the logged refusal to answer with."""
    services = current_app.extensions["controlplane"]
    try:
        body = json_body()
        if not isinstance(body, dict):
            raise ActionError("the request body must be a JSON object")
    except ActionError as exc:
        raw = request.get_data(cache=True)[:200].decode("utf-8", "replace")
        refusal = control.refuse(services, g.api_user.username, action, None, {"body": raw}, exc)
        return None, _answer(refusal)
    return body, None


@bp.get("/alert-rules")
@api_role_required("viewer")
def rules() -> Any:
    services = current_app.extensions["controlplane"]
    return jsonify(
        rules=[rule_as_dict(rule) for rule in list_rules(services)],
        conditions=[c.as_dict(services.settings) for c in CONDITIONS],
    )


@bp.post("/alert-rules")
@api_role_required("admin")
def rule_save() -> Any:
    body, refusal = _body_or_refusal("alert_rule_save")
    if refusal:
        return refusal
    services = current_app.extensions["controlplane"]
    return _answer(save_rule(services, g.api_user.username, body, _key()))


@bp.get("/notification-channels")
@api_role_required("admin")
def channels() -> Any:
    services = current_app.extensions["controlplane"]
    return jsonify(channels=[c.as_dict() for c in list_channels(services)])


@bp.post("/notification-channels")
@api_role_required("admin")
def channel_save() -> Any:
    body, refusal = _body_or_refusal("channel_save")
    if refusal:
        return refusal
    services = current_app.extensions["controlplane"]
    return _answer(save_channel(services, g.api_user.username, body, _key()))


@bp.post("/notification-channels/<name>/test")
@api_role_required("admin")
def channel_test(name: str) -> Any:
    services = current_app.extensions["controlplane"]
    return _answer(send_test(services, g.api_user.username, name))


@bp.post("/alerts/<int:id>/ack")
@api_role_required("operator")
def ack(id: int) -> Any:
    services = current_app.extensions["controlplane"]
    return _answer(acknowledge_by_id(services, g.api_user.username, id, _key()))


@bp.get("/silences")
@api_role_required("viewer")
def silences() -> Any:
    services = current_app.extensions["controlplane"]
    return jsonify(silences=[s.as_dict() for s in list_silences(services)])


@bp.post("/silences")
@api_role_required("operator")
def silence_create() -> Any:
    body, refusal = _body_or_refusal("silence_create")
    if refusal:
        return refusal
    services = current_app.extensions["controlplane"]
    return _answer(create_silence(services, g.api_user.username, body, _key()))


@bp.get("/notifications")
@api_role_required("viewer")
def notifications() -> Any:
    services = current_app.extensions["controlplane"]
    status = request.args.get("status") or None
    if status is not None and status not in NOTIFICATION_STATUSES:
        return jsonify(error=f"status: expected one of {', '.join(NOTIFICATION_STATUSES)}"), 400
    return jsonify(notifications=[n.as_dict() for n in list_notifications(services, status)])
