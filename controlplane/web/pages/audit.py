"""The Audit pages: runs per project with a coverage trend, one run's features and endpoints
with evidence, a diff between two runs; admins start a run and watch its progress fragment.

A run's progress fragment polls only while the run is running; when it ends, the answer is
the project's card (swapped in place of the old one), or a page refresh on the run's page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request

from controlplane import audit_runs
from controlplane.audit_runs import RunView
from controlplane.errors import AuditRefused
from controlplane.services import Services
from controlplane.web.auth import actor_name, role_required
from controlplane.web.charts import LineChart, Series, line_chart
from controlplane.web.filters import when

bp = Blueprint("audit", __name__)
RUNS_SHOWN = 10
TREND_RUNS = 30
MAX_ENDPOINT_ROWS = 2000
STATUS_FILTERS = {
    "": "all",
    "gap": "heavy or in-process",
    "offloaded": "offloaded",
    "inline": "inline",
    "inprocess_background": "in-process background",
}


def _services() -> Services:
    services: Services = current_app.extensions["controlplane"]
    return services


@dataclass(frozen=True)
class ProjectCard:
    """What one project's card shows."""

    name: str
    root: str | None  # None: runs are stored but the project is no longer configured
    runs: list[RunView]
    chart: LineChart | None  # coverage per finished run

    @property
    def configured(self) -> bool:
        return self.root is not None

    @property
    def running(self) -> RunView | None:
        return next((run for run in self.runs if run.running), None)

    @property
    def latest(self) -> RunView | None:
        return next((run for run in self.runs if run.status == "done"), None)

    def previous(self, run: RunView) -> RunView | None:
        """The finished run shown before `run` (older), to diff against."""
        older = self.runs[self.runs.index(run) + 1 :]
        return next((r for r in older if r.status == "done"), None)


def _card(name: str) -> ProjectCard:
    services = _services()
    project = services.settings.audit_project(name)
    trend = audit_runs.coverage_trend(services, name, TREND_RUNS)
    chart = _coverage_chart(trend) if trend else None
    runs = audit_runs.list_runs(services, name, RUNS_SHOWN)
    return ProjectCard(name, project.root if project else None, runs, chart)


def _coverage_chart(runs: list[RunView]) -> LineChart:
    """Coverage of each finished run, oldest first; a dot per run names it."""
    coverage = [(run.coverage or 0.0) / 100 for run in runs]
    tips = [f"run {run.id}, {when(run.started_at)} UTC: {run.coverage}%" for run in runs]
    named = range(len(runs)) if len(runs) <= 8 else (0, len(runs) - 1)
    return line_chart(
        f"Coverage, last {len(runs)} run{'' if len(runs) == 1 else 's'}",
        [Series("coverage", "series-0", coverage, tips)],
        [(i, f"#{runs[i].id}") for i in named],
        unit="%", fixed_top=1.0, width=520, height=160,
    )  # fmt: skip


def _card_response(name: str, finished: RunView | None = None) -> Response:
    card = _card(name)
    return make_response(render_template("_audit_project.html", card=card, finished=finished))


@bp.get("/audit")
@role_required("viewer")
def index() -> str:
    return render_template("audit.html", cards=[_card(name) for name in _project_names()])


def _project_names() -> list[str]:
    """Configured projects first, then the others that have stored runs."""
    services = _services()
    names = [p.name for p in services.settings.audit_projects]
    return names + [n for n in audit_runs.project_names(services) if n not in names]


@bp.post("/audit/projects/<name>/run")
@role_required("admin")
def start(name: str) -> tuple[str, int]:
    result = audit_runs.start_in_background(_services(), name, actor_name())
    if not result.ok:
        # Refused (one is already running): say so, and keep showing the running one.
        message = str(result.body.get("error", "refused"))
        html = render_template("_flash.html", kind="error", message=message)
        running = next((r for r in audit_runs.list_runs(_services(), name, 5) if r.running), None)
        if running is not None:
            html += render_template("_audit_status.html", run=running, polling=True,
                                    view="card")  # fmt: skip
        return html, result.status
    run = audit_runs.get_run(_services(), int(result.body["run_id"]))
    assert run is not None
    # Shown as started even if the thread has finished it already: the first poll tells.
    run_started = replace(run, status="running")
    return render_template("_audit_status.html", run=run_started, polling=True, view="card"), 202


@bp.get("/audit/runs/<int:run_id>/status")
@role_required("viewer")
def status(run_id: int) -> Response:
    run = audit_runs.get_run(_services(), run_id)
    if run is None:
        abort(404)
    view = "run" if request.args.get("view") == "run" else "card"
    if run.running:
        return make_response(render_template("_audit_status.html", run=run, polling=True,
                                             view=view))  # fmt: skip
    if view == "run":
        response = make_response("", 200)
        response.headers["HX-Refresh"] = "true"
        return response
    response = _card_response(run.project, finished=run)
    response.headers["HX-Retarget"] = f"#audit-project-{run.project}"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.get("/audit/runs/<int:run_id>")
@role_required("viewer")
def run_page(run_id: int) -> str:
    status_filter = request.args.get("status", "")
    if status_filter not in STATUS_FILTERS:
        status_filter = ""
    feature = request.args.get("feature")
    services = _services()
    run = audit_runs.get_run(services, run_id)
    if run is None:
        abort(404)
    rows = audit_runs.findings(services, run_id, status_filter or None, feature,
                               limit=MAX_ENDPOINT_ROWS + 1)  # fmt: skip
    features = audit_runs.feature_table(services, run_id)
    skipped = audit_runs.skipped_files(services, run_id)
    earlier = [r for r in audit_runs.list_runs(services, run.project, 200)
               if r.status == "done" and r.id != run.id and r.started_at
               and run.started_at and r.started_at <= run.started_at]  # fmt: skip
    return render_template(
        "audit_run.html", run=run, endpoints=rows[:MAX_ENDPOINT_ROWS],
        truncated=len(rows) > MAX_ENDPOINT_ROWS, features=features, skipped=skipped,
        previous=earlier[0] if earlier else None, status_filter=status_filter,
        feature=feature, status_filters=STATUS_FILTERS,
    )  # fmt: skip


@bp.get("/audit/diff")
@role_required("viewer")
def diff() -> tuple[str, int]:
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError:
        return render_template("audit_diff.html", diff=None,
                               error="Choose two runs to compare."), 400  # fmt: skip
    if a > b:
        a, b = b, a  # always older -> newer
    try:
        result = audit_runs.diff_runs(_services(), a, b)
    except AuditRefused as exc:
        return render_template("audit_diff.html", diff=None, error=str(exc)), exc.status
    return render_template("audit_diff.html", diff=result, error=None), 200
