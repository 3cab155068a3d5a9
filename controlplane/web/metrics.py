"""GET /metrics: open to Prometheus without a login, or behind `METRICS_TOKEN` when set."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Flask, Response, current_app, request

from controlplane.errors import DatabaseUnavailable
from controlplane.metrics import CONTENT_TYPE, Metrics

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)
EXTENSION = "controlplane.metrics"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Metrics(app.extensions["controlplane"])
    app.register_blueprint(bp)


def metrics_of(app: Flask) -> Metrics:
    metrics: Metrics = app.extensions[EXTENSION]
    return metrics


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.extensions["controlplane"].settings.metrics_token
    if token and not _bearer_matches(token):
        return Response(
            "a bearer token is required\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    try:
        body = metrics_of(current_app).scrape()
    except DatabaseUnavailable as exc:  # Prometheus shows the target down; say why in the log
        log.warning("scrape failed, database unavailable: %s", exc)
        return Response("database unavailable\n", status=503, mimetype="text/plain")
    return Response(body, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
