"""Console page: the action log, filterable."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, render_template, request

from controlplane.control.action_log import FILTERS, ActionPage, list_actions
from controlplane.web.auth import role_required

bp = Blueprint("actions", __name__)


@bp.get("/actions")
@role_required("viewer")
def index() -> Any:
    status = 200
    try:
        page = list_actions(current_app.extensions["controlplane"], request.args)
    except ValueError as exc:
        flash(str(exc), "error")
        page, status = ActionPage([], None), 400
    filters = {key: request.args.get(key, "") for key in (*FILTERS, "since", "until")}
    return render_template("actions.html", page=page, filters=filters), status
