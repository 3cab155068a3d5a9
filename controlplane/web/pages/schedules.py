"""Console page: the schedules watched for missed runs, with Run now for operators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from controlplane.periodic.run_now import run_now
from controlplane.periodic.views import list_schedules
from controlplane.web.auth import role_required

bp = Blueprint("schedules", __name__)
OUTCOME_CLASSES = {"on_time": "ok", "late": "warn", "slow": "warn", "missed": "bad",
                   "failed": "bad", "running": "live", "waiting": "muted"}  # fmt: skip
SOURCES = {"celery_app": "Celery app", "redbeat": "RedBeat",
           "django_celery_beat": "django-celery-beat", "inferred": "observed"}  # fmt: skip


@bp.get("/schedules")
@role_required("viewer")
def index() -> Any:
    schedules = list_schedules(current_app.extensions["controlplane"])
    return render_template(
        "schedules.html", schedules=schedules, classes=OUTCOME_CLASSES, sources=SOURCES
    )


@bp.post("/schedules/<int:schedule_id>/run")
@role_required("operator")
def run(schedule_id: int) -> Any:
    result = run_now(current_app.extensions["controlplane"], current_user.username, schedule_id)
    if result.ok:
        flash(f"Sent {result.body['task']} now as {result.body['task_id']}.", "ok")
    else:
        flash(result.body.get("error", "failed"), "error")
    return redirect(url_for("schedules.index") + f"#schedule-{schedule_id}", 303)
