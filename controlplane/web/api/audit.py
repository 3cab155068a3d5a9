"""JSON API for audits: runs per project, one run with its findings, a diff, start a run.

The same service functions as the Audit pages (controlplane.audit_runs).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from controlplane import audit_runs, control
from controlplane.audit_runs.runner import ACTION
from controlplane.errors import ActionError, AuditRefused
from controlplane.services import Services
from controlplane.web.api.tasks import BadBody, json_body
from controlplane.web.auth import api_role_required

bp = Blueprint("api_audit", __name__, url_prefix="/api/v1")
DEFAULT_LIMIT = 20
MAX_LIMIT = 500
MAX_FINDINGS = 20000


def _services() -> Services:
    services: Services = current_app.extensions["controlplane"]
    return services


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise AuditRefused(f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


@bp.get("/audit/runs")
@api_role_required("viewer")
def list_runs() -> Any:
    """Runs per project, newest first; `?project=` for one, `?limit=` runs per project."""
    try:
        limit = _limit()
    except AuditRefused as exc:
        return jsonify(error=str(exc)), exc.status
    services = _services()
    settings = services.settings
    wanted = request.args.get("project")
    names = [p.name for p in settings.audit_projects]
    names += [n for n in audit_runs.project_names(services) if n not in names]
    if wanted is not None:
        names = [n for n in names if n == wanted]
    projects = [
        {
            "project": name,
            "configured": settings.audit_project(name) is not None,
            "runs": [run.as_dict() for run in audit_runs.list_runs(services, name, limit)],
        }
        for name in names
    ]
    return jsonify(projects=projects)


@bp.get("/audit/runs/<int:run_id>")
@api_role_required("viewer")
def get_run(run_id: int) -> Any:
    """A run's summary, per-feature figures, endpoints with evidence and skipped files."""
    services = _services()
    run = audit_runs.get_run(services, run_id)
    if run is None:
        return jsonify(error=f"no audit run {run_id}"), 404
    body = run.as_dict()
    body["features"] = [
        {"feature": f.feature, "endpoints": f.summary.endpoints,
         "offloaded": f.summary.offloaded, "inline": f.summary.inline,
         "inline_heavy": f.summary.inline_heavy,
         "inprocess_background": f.summary.inprocess_background,
         "coverage": f.summary.coverage}
        for f in audit_runs.feature_table(services, run_id)
    ]  # fmt: skip
    body["endpoints"] = [
        f.as_dict() for f in audit_runs.findings(services, run_id, limit=MAX_FINDINGS)
    ]
    body["skipped"] = audit_runs.skipped_files(services, run_id)
    return jsonify(body)


@bp.get("/audit/diff")
@api_role_required("viewer")
def diff() -> Any:
    """What changed from run `a` to run `b` of one project."""
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError:
        return jsonify(error="give two run ids: ?a=OLDER&b=NEWER"), 400
    try:
        result = audit_runs.diff_runs(_services(), a, b)
    except AuditRefused as exc:
        return jsonify(error=str(exc)), exc.status
    return jsonify(result.as_dict())


@bp.post("/audit/runs")
@api_role_required("admin")
def start_run() -> Any:
    """Start an audit of a configured project in the background: 202 with its run id."""
    actor = g.api_user.username
    try:
        body = json_body()
        if not isinstance(body, dict) or not isinstance(body.get("project"), str):
            raise BadBody('the body must be a JSON object like {"project": "NAME"}')
    except ActionError as exc:
        return _refused(actor, exc)
    result = audit_runs.start_in_background(
        _services(), body["project"], actor, request.headers.get("Idempotency-Key")
    )
    answer = dict(result.body)
    if result.action_id is not None:
        answer.setdefault("action_id", result.action_id)
    return jsonify(answer), result.status


def _refused(actor: str, error: ActionError) -> Any:
    """Log a request we could not read as a refused audit run, then answer it."""

    raw = request.get_data(cache=True)[:200].decode("utf-8", "replace")
    result = control.refuse(_services(), actor, ACTION, None, {"body": raw}, error)
    return jsonify(result.body), result.status
