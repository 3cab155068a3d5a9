"""/healthz (the process answers) and /readyz (database and broker answer)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    problems = current_app.extensions["controlplane"].readiness()
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ok")
