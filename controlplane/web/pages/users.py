"""Admin page: the console's users and their roles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from controlplane import users
from controlplane.db import session_scope
from controlplane.models import ROLES, User
from controlplane.web.auth import role_required

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/")
@role_required("admin")
def index() -> Any:
    services = current_app.extensions["controlplane"]
    with session_scope(services.sessions) as session:
        rows = session.scalars(select(User).order_by(User.username)).all()
    return render_template("users.html", users=rows, roles=ROLES)


@bp.post("/")
@role_required("admin")
def add() -> Any:
    services = current_app.extensions["controlplane"]
    try:
        with session_scope(services.sessions) as session:
            user = users.create_user(
                session,
                request.form.get("username", ""),
                request.form.get("password", ""),
                request.form.get("role", ""),
            )
            flash(f"Added {user.username} ({user.role}).", "ok")
    except users.UserError as exc:
        flash(str(exc), "error")
    return redirect(url_for("users.index"))
