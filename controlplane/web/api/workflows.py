"""JSON API: a task's workflow (chain, group, chord) as nodes and edges, with its notes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from controlplane.fleet.workflow import workflow_of
from controlplane.web.auth import api_role_required

bp = Blueprint("api_workflows", __name__, url_prefix="/api/v1")


@bp.get("/tasks/<task_id>/workflow")
@api_role_required("viewer")
def workflow(task_id: str) -> Any:
    found = workflow_of(current_app.extensions["controlplane"], task_id)
    if found is None:
        return jsonify(error=f"no task with id {task_id!r} in history"), 404
    summary = found.summary
    return jsonify(
        root_id=found.root_id,
        summary={"total": summary.total, "done": summary.done, "failed": summary.failed,
                 "running": summary.running, "waiting": summary.waiting},
        nodes=[
            {"task_id": n.task_id, "name": n.name, "state": n.state, "parent_id": n.parent_id,
             "group_id": n.group_id, "seen": n.seen}
            for n in found.nodes
        ],
        edges=[{"source": e.source, "target": e.target, "kind": e.kind} for e in found.edges],
        groups={gid: list(members) for gid, members in found.groups.items()},
        notes=list(found.notes),
        truncated=found.truncated,
    )  # fmt: skip
