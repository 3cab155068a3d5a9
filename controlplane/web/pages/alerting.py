"""The Alerts page: the rules' alerts (firing, pending), undeliverable notifications, rules,
channels (with a test button each), silences, and the history page of resolved alerts.

Forms post, the services act (and write the action log), the page is shown again with a
flash: the same services as /api/v1/alert-rules, notification-channels and silences.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from controlplane.alerting.actions import acknowledge_by_id, send_test
from controlplane.alerting.config import CHANNEL_FIELDS, CHANNEL_KINDS, SEVERITIES
from controlplane.alerting.history import delivery_counts, list_notifications, list_states
from controlplane.alerting.silences import create_silence, list_silences
from controlplane.alerting.store import (
    delete_channel,
    delete_rule,
    list_channels,
    list_rules,
    rule_as_dict,
    save_channel,
    save_rule,
)
from controlplane.control.action_log import ActionResult
from controlplane.fleet.alerts import CONDITIONS
from controlplane.web import htmx
from controlplane.web.auth import role_required

bp = Blueprint("alerting", __name__, url_prefix="/alerts")


def _services() -> Any:
    return current_app.extensions["controlplane"]


def _back(result: ActionResult, done: str) -> Response:
    if result.ok:
        flash(done, "ok")
    else:
        flash(str(result.body.get("error", "failed")), "error")
    return redirect(url_for("alerting.index"))


@bp.get("/")
@role_required("viewer")
def index() -> Any:
    services = _services()
    live = {
        "states": list_states(services),
        "undeliverable": list_notifications(services, "failed", limit=20),
        "counts": delivery_counts(services),
    }
    if htmx:
        response = make_response(render_template("_alerting_live.html", **live))
        response.headers["Vary"] = "HX-Request"
        return response
    admin = current_user.may("admin")
    return render_template(
        "alerting.html",
        **live,
        recent=list_notifications(services, limit=20),
        rules=[rule_as_dict(rule) for rule in list_rules(services)],
        channels=list_channels(services) if admin else [],
        silences=list_silences(services),
        conditions=CONDITIONS,
        kinds=CHANNEL_KINDS,
        severities=SEVERITIES,
    )


@bp.get("/history")
@role_required("viewer")
def history() -> Any:
    return render_template("alert_history.html", states=list_states(_services(), "resolved"))


@bp.post("/<int:state_id>/ack")
@role_required("operator")
def ack(state_id: int) -> Any:
    result = acknowledge_by_id(_services(), current_user.username, state_id)
    return _back(result, "Acknowledged: no repeats while it holds.")


@bp.post("/rules")
@role_required("admin")
def rule_save() -> Any:
    form = request.form
    body: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in ("name", "condition", "queues", "tasks", "severity", "for", "repeat")
    }
    body["channels"] = form.get("channels", "")
    body["enabled"] = form.get("enabled") == "on"
    body["thresholds"] = _pairs(form.get("thresholds", ""))
    for key in ("queues", "tasks"):
        body[key] = body[key] or "*"
    for key in ("for", "repeat"):
        body[key] = body[key] or 0
    result = save_rule(_services(), current_user.username, body)
    return _back(result, f"Saved rule {body['name']}.")


@bp.post("/rules/<name>/delete")
@role_required("admin")
def rule_delete(name: str) -> Any:
    return _back(delete_rule(_services(), current_user.username, name), f"Deleted rule {name}.")


@bp.post("/channels")
@role_required("admin")
def channel_save() -> Any:
    form = request.form
    kind = form.get("kind", "")
    fields, secret = CHANNEL_FIELDS.get(kind, ((), ""))
    body: dict[str, Any] = {"name": form.get("name", "").strip(), "kind": kind}
    for key in (*fields, secret):
        if key:
            body[key] = form.get(key, "").strip()
    if kind == "email":
        body["starttls"] = form.get("starttls") == "on"
    body["enabled"] = form.get("enabled") == "on"
    result = save_channel(_services(), current_user.username, body)
    return _back(result, f"Saved channel {body['name']} (its secret is not shown again).")


@bp.post("/channels/<name>/test")
@role_required("admin")
def channel_test(name: str) -> Any:
    result = send_test(_services(), current_user.username, name)
    if result.status == 502:
        flash(f"Test to {name} not delivered: {result.body.get('detail')}", "error")
        return redirect(url_for("alerting.index"))
    return _back(result, f"Test notification delivered to {name}.")


@bp.post("/channels/<name>/delete")
@role_required("admin")
def channel_delete(name: str) -> Any:
    result = delete_channel(_services(), current_user.username, name)
    return _back(result, f"Deleted channel {name}.")


@bp.post("/silences")
@role_required("operator")
def silence_create() -> Any:
    form = request.form
    body = {key: form.get(key, "").strip() for key in ("alert", "subject", "minutes", "reason")}
    result = create_silence(_services(), current_user.username, body)
    return _back(result, "Silenced.")


def _pairs(text: str) -> dict[str, str]:
    """`name=value, name=value` from a form field (the rule parser checks the numbers)."""
    pairs = {}
    for item in text.replace("\n", ",").split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs
