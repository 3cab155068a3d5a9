"""Console pages: failure groups (list and one group) with Resolve, Ignore and Retry group."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from controlplane.failures.actions import STATUS_ACTIONS, retry_group, set_status
from controlplane.failures.groups import STATES, BadGroupFilter, get_group, list_groups
from controlplane.services import Services
from controlplane.web.auth import role_required

bp = Blueprint("failures", __name__)
PAGE_SIZE = 50


def _services() -> Services:
    services: Services = current_app.extensions["controlplane"]
    return services


@bp.get("/failures")
@role_required("viewer")
def index() -> Any:
    state = request.args.get("state") or None
    try:
        groups = list_groups(_services(), state=state, limit=PAGE_SIZE)
    except BadGroupFilter as exc:
        flash(str(exc), "error")
        state, groups = None, []
    return render_template("failures.html", groups=groups, state=state, states=STATES)


@bp.get("/failures/<int:group_id>")
@role_required("viewer")
def detail(group_id: int, confirm: dict[str, Any] | None = None) -> Any:
    found = get_group(_services(), group_id)
    if found is None:
        abort(404)
    return render_template("failure_group.html", detail=found, group=found.group, confirm=confirm)


@bp.post("/failures/<int:group_id>/<action>")
@role_required("operator")
def change(group_id: int, action: str) -> Any:
    if action not in STATUS_ACTIONS:
        abort(404)
    result = set_status(_services(), current_user.username, group_id, action)
    if result.ok:
        flash(f"Group {group_id} is now {result.body['status']}.", "ok")
    else:
        flash(result.body.get("error", "failed"), "error")
    return redirect(url_for("failures.detail", group_id=group_id), 303)


@bp.post("/failures/<int:group_id>/retry")
@role_required("operator")
def retry(group_id: int) -> Any:
    """First a dry run (the count, shown for confirmation), then the retry itself."""
    dry_run = request.form.get("confirm") != "yes"
    result = retry_group(_services(), current_user.username, group_id, dry_run)
    if not result.ok:
        flash(result.body.get("error", "failed"), "error")
    elif dry_run:
        return detail(group_id, confirm=result.body)
    else:
        skipped = len(result.body.get("skipped") or {})
        flash(
            f"Retried {result.body.get('acted_on', 0)} task(s)"
            + (f"; {skipped} could not be sent again." if skipped else "."),
            "ok",
        )
    return redirect(url_for("failures.detail", group_id=group_id), 303)
