"""Console page: the schedules watched for missed runs, with Run now for operators, and
Enable/Disable of django-celery-beat entries for admins when the setting allows writing."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from controlplane.periodic.django_beat import disabled_names
from controlplane.periodic.django_beat_write import set_enabled, set_enabled_by_name
from controlplane.periodic.run_now import run_now
from controlplane.periodic.views import list_schedules
from controlplane.web.auth import role_required

log = logging.getLogger(__name__)
bp = Blueprint("schedules", __name__)
OUTCOME_CLASSES = {"on_time": "ok", "late": "warn", "slow": "warn", "missed": "bad",
                   "failed": "bad", "running": "live", "waiting": "muted"}  # fmt: skip
SOURCES = {"celery_app": "Celery app", "redbeat": "RedBeat",
           "django_celery_beat": "django-celery-beat", "inferred": "observed"}  # fmt: skip


@bp.get("/schedules")
@role_required("viewer")
def index() -> Any:
    schedules = list_schedules(current_app.extensions["controlplane"])
    settings = current_app.extensions["controlplane"].settings
    writable = bool(settings.django_beat_writable and settings.django_beat_url)
    disabled = _disabled(settings.django_beat_url, writable)
    return render_template("schedules.html", schedules=schedules, classes=OUTCOME_CLASSES,
                           sources=SOURCES, django_beat_writable=writable,
                           django_beat_disabled=disabled)  # fmt: skip


def _disabled(url: str | None, writable: bool) -> list[str] | None:
    """django-celery-beat's disabled entries, for the admins' Enable buttons (None: unread)."""
    if not url or not writable or not current_user.may("admin"):
        return []
    try:
        return disabled_names(url)
    except Exception as exc:  # the fleet's database: down, slow (deadline), no tables
        log.warning("could not read django-celery-beat's disabled entries: %r", exc)
        return None


@bp.post("/schedules/<int:schedule_id>/run")
@role_required("operator")
def run(schedule_id: int) -> Any:
    result = run_now(current_app.extensions["controlplane"], current_user.username, schedule_id)
    if result.ok:
        flash(f"Sent {result.body['task']} now as {result.body['task_id']}.", "ok")
    else:
        flash(result.body.get("error", "failed"), "error")
    return redirect(url_for("schedules.index") + f"#schedule-{schedule_id}", 303)


@bp.post("/schedules/<int:schedule_id>/enabled")
@role_required("admin")
def set_enabled_page(schedule_id: int) -> Any:
    enabled = request.form.get("enabled") == "true"
    services = current_app.extensions["controlplane"]
    result = set_enabled(services, current_user.username, schedule_id, enabled)
    if result.ok:
        flash(f"{'Enabled' if enabled else 'Disabled'} {result.body['schedule']} in "
              "django-celery-beat.", "ok")  # fmt: skip
    else:
        flash(result.body.get("error", "failed"), "error")
    return redirect(url_for("schedules.index") + f"#schedule-{schedule_id}", 303)


@bp.post("/schedules/django-beat/enabled")
@role_required("admin")
def set_enabled_by_name_page() -> Any:
    enabled, name = request.form.get("enabled") == "true", request.form.get("name", "")[:200]
    services = current_app.extensions["controlplane"]
    result = set_enabled_by_name(services, current_user.username, name, enabled)
    if result.ok:
        flash(f"{'Enabled' if enabled else 'Disabled'} {name} in django-celery-beat; the "
              "watch picks it up on its next pass.", "ok")  # fmt: skip
    else:
        flash(result.body.get("error", "failed"), "error")
    return redirect(url_for("schedules.index"), 303)
