"""Console pages for tasks: the list with filters and bulk actions, one task, trigger."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from controlplane import control
from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult
from controlplane.control.validate import decode_json_field
from controlplane.errors import ActionError
from controlplane.fleet import task_history
from controlplane.fleet.progress import (
    LIVE_STATES,
    RUNNING_STATES,
    progress_many,
    task_progress,
    why_no_progress,
)
from controlplane.fleet.workflow import workflow_of, workflow_summaries
from controlplane.services import Services
from controlplane.web.auth import role_required
from controlplane.web.graph import layout

bp = Blueprint("tasks", __name__)
PAGE_SIZE = 50
LIST_POLL_SECONDS = 3  # the live task list asks for its visible page this often
BULK_FILTER = ("state", "name", "queue", "worker", "since", "until", "text", "roots", "not_retried")


def _services() -> Services:
    services: Services = current_app.extensions["controlplane"]
    return services


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _go(url: str) -> Response:
    """Navigate: HX-Redirect for htmx requests, 303 for plain form posts."""
    if _is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)  # type: ignore[return-value]


def _flash_fragment(result: ActionResult, ok_message: str) -> tuple[str, int]:
    kind = "ok" if result.ok else "error"
    message = ok_message if result.ok else result.body.get("error", "failed")
    return render_template("_flash.html", kind=kind, message=message), result.status


@bp.get("/tasks")
@role_required("viewer")
def index() -> Any:
    services = _services()
    sort = request.args.get("sort") or task_history.DEFAULT_SORT
    cursor = request.args.get("cursor")
    try:
        sort = task_history.parse_sort(sort)
        task_filter = task_history.TaskFilter.from_mapping(request.args)
        page = task_history.list_tasks(services, task_filter, cursor, PAGE_SIZE, sort)
    except task_history.BadFilter as exc:
        flash(str(exc), "error")
        task_filter, sort, cursor = task_history.TaskFilter(), task_history.DEFAULT_SORT, None
        page = task_history.TaskPage([], None)
    running = [t.task_id for t in page.tasks if t.state in RUNNING_STATES]
    params = task_filter.as_params()
    context = {
        "tasks": page.tasks,
        "next_cursor": page.next_cursor,
        "filter": params,
        "sort": sort,
        "sorts": task_history.SORTS,
        "live_params": {**params, "sort": sort, **({"cursor": cursor} if cursor else {})},
        "states": task_history.ALL_STATES,
        "live_states": LIVE_STATES,
        "progress": progress_many(services, running),
        "now": utcnow(),
        "poll_seconds": LIST_POLL_SECONDS,
        "workflows": workflow_summaries(
            _services(), [t.task_id for t in page.tasks if t.root_id in (None, t.task_id)]
        ),
        "retried": task_history.retried_among(services, [t.task_id for t in page.tasks]),
    }
    if _is_htmx() and request.args.get("fragment") == "rows":
        return render_template("_task_rows.html", **context)
    return render_template("tasks.html", **context)


@bp.get("/tasks/<task_id>/row")
@role_required("viewer")
def row(task_id: str) -> Any:
    task = task_history.get_task(_services(), task_id)
    if task is None:
        return "", 404
    progress = progress_many(_services(), [task.task_id] if task.state in RUNNING_STATES else [])
    retried = task_history.retried_among(_services(), [task.task_id])
    return render_template(
        "_task_row.html", task=task, live_states=LIVE_STATES, progress=progress, now=utcnow(),
        retried=retried,
    )  # fmt: skip


@bp.get("/tasks/<task_id>")
@role_required("viewer")
def detail(task_id: str) -> Any:
    related = task_history.task_detail(_services(), task_id)
    if related is None:
        return render_template("not_found.html", what=f"task {task_id}"), 404
    task = related.task
    progress = task_progress(_services(), task_id, task.state)
    fragment = _is_htmx() and request.args.get("fragment")
    template = "_task_live.html" if fragment else "task.html"
    actions = control.actions_on(_services(), task_id)
    workflow = None if fragment else workflow_of(_services(), task_id)
    graph = layout(workflow) if workflow and workflow.is_canvas else None
    # Where a retry would go (the task's route, never what its events claimed); read, not asked.
    retry_route = (
        control.routed_queues(_services(), [task.name], ask=False).get(task.name)
        if task.name
        else None
    )
    return render_template(
        template,
        task=task,
        related=related,
        actions=actions,
        progress=progress,
        no_progress=why_no_progress(_services()),
        live_states=LIVE_STATES,
        workflow=workflow,
        graph=graph,
        retry_route=retry_route,
    )


@bp.post("/tasks/<task_id>/retry")
@role_required("operator")
def retry(task_id: str) -> Any:
    result = control.retry(_services(), current_user.username, task_id)
    if not result.ok:
        return _flash_fragment(result, "")
    new_id = result.body["task_id"]
    url = url_for("tasks.detail", task_id=new_id)
    if not _is_htmx():
        return redirect(url, 303)
    # The new task's page replaces this one, and the address bar names it (Back returns).
    page = detail(new_id)
    response = make_response(page)
    response.headers.update(
        {"HX-Push-Url": url, "HX-Retarget": "main", "HX-Reswap": "outerHTML",
         "HX-Reselect": "main"}
    )  # fmt: skip
    return response


@bp.post("/tasks/<task_id>/revoke")
@role_required("operator")
def revoke(task_id: str) -> Any:
    terminate = request.form.get("terminate") == "on"
    result = control.revoke(
        _services(), current_user.username, task_id, terminate, request.form.get("signal")
    )
    if result.ok and not _is_htmx():
        flash(f"Revoke sent for {task_id}.", "ok")
        return _go(url_for("tasks.detail", task_id=task_id))
    return _flash_fragment(result, f"Revoke sent for {task_id}.")


@bp.post("/tasks/bulk")
@role_required("operator")
def bulk() -> Any:
    """The bulk buttons send `bulk=<scope> <action>`: the scope is always explicit."""
    scope, _, action = request.form.get("bulk", "").partition(" ")
    body: dict[str, Any] = {
        "action": action,
        "scope": scope,
        "dry_run": request.form.get("confirm") != "yes",
    }
    if scope == "selected":
        body["ids"] = request.form.getlist("ids")
    else:
        body["filter"] = {key: request.form[key] for key in BULK_FILTER if request.form.get(key)}
    if action == "retry" and request.form.get("include_retried") == "on":
        body["not_retried"] = False
    result = control.bulk(_services(), current_user.username, body)
    # htmx swaps the refusal into the page as it is (an error status is a console error there)
    status = 200 if result.ok or _is_htmx() else result.status
    return render_template("_bulk_result.html", result=result, request_body=body), status


@bp.route("/trigger", methods=["GET", "POST"])
@role_required("operator")
def trigger() -> Any:
    services = _services()
    # A GET publishes nothing: the names are what the scheduler's inspection stored, the routes
    # what it (or the last trigger) heard from the workers.
    known = control.task_names(services)
    names = list(known.names)
    ask = request.method == "POST"
    routes = control.routed_queues(services, names, ask=ask)
    source = control.routing_source(services, ask=ask)
    note = None if known.reported else control.NOT_REPORTED
    shown = {"names": names, "names_note": note, "routes": routes, "routing_source": source}
    # Only a POST sends: HEAD (which Flask answers with this view and Flask-WTF does not
    # check) and GET only show the form, prefilled from the query string.
    if request.method != "POST":
        return render_template("trigger.html", form=request.args, **shown)
    form = request.form

    depth = services.settings.max_arg_depth
    try:
        payload = {
            "name": form.get("name", ""),
            "args": decode_json_field(form.get("args", ""), "args", [], depth),
            "kwargs": decode_json_field(form.get("kwargs", ""), "kwargs", {}, depth),
            "queue": form.get("queue") or None,
            "countdown": form.get("countdown") or None,
            "eta": form.get("eta") or None,
            "priority": form.get("priority") or None,
        }
    except ActionError as exc:
        payload = None
        error = str(exc)
    except RecursionError:  # json.loads ran out of stack: far past any nesting limit
        payload = None
        error = "args/kwargs: nested too deeply to read"
    if payload is not None:
        result = control.trigger(services, current_user.username, payload)
        if result.ok:
            return _go(url_for("tasks.detail", task_id=result.body["task_id"]))
        error = result.body.get("error", "failed")
    return render_template("trigger.html", form=form, error=error, **shown), 400
