"""JSON API for tasks and actions: list, detail, trigger, retry, revoke, bulk, the action log.

Same service functions as the console; POSTs honour an `Idempotency-Key` header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from controlplane import control
from controlplane.control.action_log import ActionResult, list_actions
from controlplane.control.validate import load_json
from controlplane.errors import ActionError
from controlplane.fleet import task_history
from controlplane.fleet.progress import task_progress
from controlplane.services import Services
from controlplane.web.auth import api_role_required

bp = Blueprint("api_tasks", __name__, url_prefix="/api/v1")


def _services() -> Services:
    services: Services = current_app.extensions["controlplane"]
    return services


def _answer(result: ActionResult) -> tuple[Response, int]:
    body = dict(result.body)
    if result.action_id is not None:
        body.setdefault("action_id", result.action_id)
    return jsonify(body), result.status


def _idempotency_key() -> str | None:
    return request.headers.get("Idempotency-Key")


class BadBody(ActionError):
    pass


def json_body(required: bool = True) -> Any:
    """The parsed JSON body; anything else (form data, pickle, bad JSON) is refused by name."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    if request.mimetype != "application/json":
        error = BadBody(
            f"only application/json is accepted, not {request.mimetype or 'no content type'}"
        )
        error.status = 415
        raise error
    try:  # bounded nesting first: a deep body would make the parser recurse (500)
        return load_json(raw, "the request body", _services().settings.max_arg_depth, envelope=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBody(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:  # the parser's own stack: nested deeper than any request needs
        raise BadBody("the request body is nested too deeply to read") from None


def _refusal(action: str, target: str | None, error: ActionError) -> tuple[Response, int]:
    """Log a request we could not even read, then answer it."""

    raw = request.get_data(cache=True)[:200].decode("utf-8", "replace")
    result = control.refuse(_services(), g.api_user.username, action, target, {"body": raw}, error)
    return _answer(result)


@bp.get("/tasks")
@api_role_required("viewer")
def list_tasks() -> Any:
    try:
        task_filter = task_history.TaskFilter.from_mapping(request.args)
        limit = int(request.args.get("limit", 50))
        sort = task_history.parse_sort(request.args.get("sort"))
        cursor = request.args.get("cursor")
        page = task_history.list_tasks(_services(), task_filter, cursor, limit, sort)
        tasks = [task.as_dict() for task in page.tasks]
    except (task_history.BadFilter, ValueError) as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(tasks=tasks, next_cursor=page.next_cursor)


@bp.get("/tasks/<task_id>")
@api_role_required("viewer")
def get_task(task_id: str) -> Any:
    related = task_history.task_detail(_services(), task_id)
    if related is None:
        return jsonify(error=f"no task with id {task_id!r} in history"), 404
    body = related.task.as_dict()
    body["children"] = [child.task_id for child in related.children]
    body["retried_as"] = [retry.task_id for retry in related.retried_as]
    body["progress"] = task_progress(_services(), task_id, body["state"])
    return jsonify(body)


@bp.post("/tasks")
@api_role_required("operator")
def trigger() -> Any:
    try:
        payload = json_body()
    except ActionError as exc:
        return _refusal("trigger", None, exc)
    result = control.trigger(_services(), g.api_user.username, payload, _idempotency_key())
    return _answer(result)


@bp.post("/tasks/<task_id>/retry")
@api_role_required("operator")
def retry(task_id: str) -> Any:
    try:
        body = json_body(required=False)
        if not isinstance(body, dict):
            raise BadBody("the request body must be a JSON object")
    except ActionError as exc:
        return _refusal("retry", task_id, exc)
    queue = body.get("queue") or None  # only a queue the operator gives overrides the route
    result = control.retry(_services(), g.api_user.username, task_id, _idempotency_key(), queue)
    return _answer(result)


@bp.post("/tasks/<task_id>/revoke")
@api_role_required("operator")
def revoke(task_id: str) -> Any:
    try:
        body = json_body(required=False)
        if not isinstance(body, dict):
            raise BadBody("the request body must be a JSON object")
    except ActionError as exc:
        return _refusal("revoke", task_id, exc)
    result = control.revoke(
        _services(),
        g.api_user.username,
        task_id,
        terminate=body.get("terminate", False),
        signal=body.get("signal"),
        idempotency_key=_idempotency_key(),
    )
    return _answer(result)


@bp.post("/tasks/bulk")
@api_role_required("operator")
def bulk() -> Any:
    try:
        body = json_body()
        if not isinstance(body, dict):
            raise BadBody("the request body must be a JSON object")
    except ActionError as exc:
        return _refusal("bulk", None, exc)
    result = control.bulk(_services(), g.api_user.username, body, _idempotency_key())
    return _answer(result)


@bp.get("/task-names")
@api_role_required("viewer")
def task_names() -> Any:
    """What is stored (a GET never asks the workers): `note` says when no worker reported."""
    known = control.task_names(_services())
    note = None if known.reported else control.NOT_REPORTED
    return jsonify(names=list(known.names), reported=known.reported, note=note)


@bp.get("/actions")
@api_role_required("viewer")
def actions() -> Any:
    try:
        page = list_actions(_services(), request.args)
    except ValueError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(actions=[row.as_dict() for row in page.rows], next_cursor=page.next_cursor)


# ---- queue and worker actions (admin) ------------------------------------------------------


def _admin_body() -> dict[str, Any]:
    body = json_body(required=False)
    if not isinstance(body, dict):
        raise BadBody("the request body must be a JSON object")
    return body


def _admin(action: str, target: str, call: Callable[[dict[str, Any]], ActionResult]) -> Any:
    """Read the JSON body (a refusal is logged too), run the admin action, answer."""
    try:
        body = _admin_body()
    except ActionError as exc:
        return _refusal(action, target, exc)
    return _answer(call(body))


@bp.post("/queues/<queue>/purge")
@api_role_required("admin")
def purge(queue: str) -> Any:
    return _admin(
        "purge_queue",
        queue,
        lambda body: control.purge_queue(
            _services(), g.api_user.username, queue, body.get("confirm"), _idempotency_key()
        ),
    )


@bp.post("/workers/<hostname>/pool")
@api_role_required("admin")
def pool(hostname: str) -> Any:
    return _admin(
        "pool_resize",
        hostname,
        lambda body: control.pool_resize(
            _services(), g.api_user.username, hostname, body.get("delta"), _idempotency_key()
        ),
    )


@bp.post("/workers/<hostname>/consumers")
@api_role_required("admin")
def add_consumer(hostname: str) -> Any:
    return _admin(
        "add_consumer",
        hostname,
        lambda body: control.add_consumer(
            _services(),
            g.api_user.username,
            hostname,
            str(body.get("queue", "")),
            _idempotency_key(),
        ),
    )


@bp.post("/workers/<hostname>/consumers/<queue>/cancel")
@api_role_required("admin")
def cancel_consumer(hostname: str, queue: str) -> Any:
    return _admin(
        "cancel_consumer",
        hostname,
        lambda _body: control.cancel_consumer(
            _services(), g.api_user.username, hostname, queue, _idempotency_key()
        ),
    )


@bp.post("/workers/<hostname>/shutdown")
@api_role_required("admin")
def shutdown(hostname: str) -> Any:
    return _admin(
        "shutdown_worker",
        hostname,
        lambda _body: control.shutdown_worker(
            _services(), g.api_user.username, hostname, _idempotency_key()
        ),
    )
