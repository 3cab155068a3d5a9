"""The KEDA ScaledObject for one queue, with its numbers filled in, to copy or download."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from controlplane.autoscale.manifests import EXAMPLE, ManifestError, keda_scaled_object
from controlplane.autoscale.policy import targets_for
from controlplane.web.auth import role_required

bp = Blueprint("scaling", __name__)
FIELD_CHARS = 300  # longer form values are cut before they reach the manifest's checks


@bp.get("/queues/<path:queue>/scaledobject")
@role_required("viewer")
def scaled_object(queue: str) -> Response | tuple[str, int]:
    settings = current_app.extensions["controlplane"].settings
    form = {
        field: request.args.get(field, str(EXAMPLE[field]))[:FIELD_CHARS]
        for field in ("namespace", "deployment", "prometheus_url")
    }
    targets = targets_for(settings, queue)
    error = None
    manifest = ""
    try:
        manifest = keda_scaled_object(
            queue,
            form["namespace"],
            form["deployment"],
            form["prometheus_url"],
            targets.min_workers,
            targets.max_workers,
        )
    except ManifestError as exc:
        error = str(exc)
    if manifest and request.args.get("download"):
        filename = f"scaledobject-{form['deployment']}.yaml"
        return Response(
            manifest,
            mimetype="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    page = render_template(
        "scaledobject.html", queue=queue, form=form, targets=targets, manifest=manifest,
        error=error,
    )  # fmt: skip
    return page, 400 if error else 200
