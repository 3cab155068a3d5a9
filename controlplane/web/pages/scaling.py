"""KEDA manifests for one queue, with its numbers filled in, to copy or download: a
ScaledObject (scale a worker Deployment) or a ScaledJob (long tasks, one per Job)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from controlplane.autoscale.manifests import (
    EXAMPLE,
    JOB_EXAMPLE,
    ManifestError,
    keda_scaled_job,
    keda_scaled_object,
)
from controlplane.autoscale.policy import targets_for
from controlplane.web.auth import role_required

bp = Blueprint("scaling", __name__)
FIELD_CHARS = 300  # longer form values are cut before they reach the manifest's checks
OBJECT_FIELDS = {"namespace": "Namespace", "deployment": "Worker Deployment",
                 "prometheus_url": "Prometheus URL"}  # fmt: skip
JOB_FIELDS = {"namespace": "Namespace", "name": "Job name", "image": "Worker image",
              "celery_app": "Celery app (-A)", "prometheus_url": "Prometheus URL"}  # fmt: skip


def _manifest(
    queue: str, kind: str, fields: dict[str, str], example: dict[str, Any],
    render: Callable[[dict[str, str], Any], str],
) -> Response | tuple[str, int]:  # fmt: skip
    settings = current_app.extensions["controlplane"].settings
    form = {f: request.args.get(f, str(example[f]))[:FIELD_CHARS] for f in fields}
    targets = targets_for(settings, queue)
    error, manifest = None, ""
    try:
        manifest = render(form, targets)
    except ManifestError as exc:
        error = str(exc)
    if manifest and request.args.get("download"):
        filename = f"{kind.lower()}-{form.get('deployment') or form.get('name')}.yaml"
        return Response(
            manifest,
            mimetype="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    page = render_template(
        "scaledobject.html", queue=queue, kind=kind, fields=fields, form=form, targets=targets,
        manifest=manifest, error=error, endpoint=request.endpoint,
    )  # fmt: skip
    return page, 400 if error else 200


@bp.get("/queues/<path:queue>/scaledobject")
@role_required("viewer")
def scaled_object(queue: str) -> Response | tuple[str, int]:
    def render(form: dict[str, str], targets: Any) -> str:
        return keda_scaled_object(
            queue, form["namespace"], form["deployment"], form["prometheus_url"],
            targets.min_workers, targets.max_workers,
        )  # fmt: skip

    return _manifest(queue, "ScaledObject", OBJECT_FIELDS, EXAMPLE, render)


@bp.get("/queues/<path:queue>/scaledjob")
@role_required("viewer")
def scaled_job(queue: str) -> Response | tuple[str, int]:
    def render(form: dict[str, str], targets: Any) -> str:
        return keda_scaled_job(
            queue, form["namespace"], form["name"], form["image"], form["celery_app"],
            form["prometheus_url"], targets.max_workers,
        )  # fmt: skip

    return _manifest(queue, "ScaledJob", JOB_FIELDS, JOB_EXAMPLE, render)
