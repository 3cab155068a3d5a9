"""/healthz (the process answers) and /readyz (database and broker answer)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from controlplane import db
from controlplane.errors import BrokerUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    services = current_app.extensions["controlplane"]
    problems: dict[str, str] = {}
    try:
        db.ping(services.engine)
    except Exception as exc:
        problems["database"] = f"database unreachable: {type(exc).__name__}: {exc}"[:500]
    try:
        services.broker.ping()
    except BrokerUnavailable as exc:
        problems["broker"] = str(exc)[:500]
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ok")
