"""Admin page: the console's users and their roles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from controlplane import users
from controlplane.web.auth import role_required

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/")
@role_required("admin")
def index() -> Any:
    rows = users.list_users(current_app.extensions["controlplane"])
    return render_template("users.html", users=rows, roles=users.ROLES)


@bp.post("/")
@role_required("admin")
def add() -> Any:
    try:
        user = users.create_user(
            current_app.extensions["controlplane"],
            request.form.get("username", ""),
            request.form.get("password", ""),
            request.form.get("role", ""),
        )
        flash(f"Added {user.username} ({user.role}).", "ok")
    except users.UserError as exc:
        flash(str(exc), "error")
    return redirect(url_for("users.index"))
