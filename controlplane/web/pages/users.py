"""Admin page: the console's users, their roles and tokens, and what an admin does to them
(add, disable, enable, role, new password, revoke tokens); each goes into the action log."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from controlplane import users
from controlplane.accounts import lifecycle, tokens
from controlplane.control.action_log import ActionResult
from controlplane.services import Services
from controlplane.web.auth import role_required

bp = Blueprint("users", __name__, url_prefix="/users")


def _services() -> Services:
    services: Services = current_app.extensions["controlplane"]
    return services


def _done(result: ActionResult) -> Any:
    if result.ok:
        flash(str(result.body.get("message", "Done.")), "ok")
    else:
        flash(str(result.body.get("error", "failed")), "error")
    return redirect(url_for("users.index"))


@bp.get("/")
@role_required("admin")
def index() -> Any:
    return _page()


def _page(new_token: str | None = None) -> Any:
    services = _services()
    return render_template(
        "users.html",
        users=users.list_users(services),
        tokens=tokens.list_tokens(services),
        roles=users.ROLES,
        new_token=new_token,
    )


@bp.post("/<username>/tokens")
@role_required("admin")
def issue_token(username: str) -> Any:
    """A new token, shown in this answer only (never in a redirect's flash: the session cookie
    is signed, not encrypted)."""
    days = request.form.get("expires_in_days", "").strip()
    try:
        expires_in_days = float(days) if days else None
    except ValueError:
        flash("expiry: a number of days, or empty for none", "error")
        return redirect(url_for("users.index"))
    result, token = tokens.issue_token(
        _services(), current_user.username, username, request.form.get("name", ""), expires_in_days
    )
    if token is None:
        return _done(result)
    response = make_response(_page(new_token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/")
@role_required("admin")
def add() -> Any:
    form = request.form
    return _done(
        lifecycle.add(
            _services(),
            current_user.username,
            form.get("username", ""),
            form.get("password", ""),
            form.get("role", ""),
        )
    )


@bp.post("/<username>/disable")
@role_required("admin")
def disable(username: str) -> Any:
    return _done(lifecycle.disable(_services(), current_user.username, username))


@bp.post("/<username>/enable")
@role_required("admin")
def enable(username: str) -> Any:
    return _done(lifecycle.enable(_services(), current_user.username, username))


@bp.post("/<username>/role")
@role_required("admin")
def role(username: str) -> Any:
    new_role = request.form.get("role", "")
    return _done(lifecycle.set_role(_services(), current_user.username, username, new_role))


@bp.post("/<username>/passwd")
@role_required("admin")
def passwd(username: str) -> Any:
    password = request.form.get("password", "")
    return _done(lifecycle.set_password(_services(), current_user.username, username, password))


@bp.post("/<username>/revoke-tokens")
@role_required("admin")
def revoke_tokens(username: str) -> Any:
    return _done(lifecycle.revoke_tokens(_services(), current_user.username, username))


@bp.post("/tokens/<int:token_id>/revoke")
@role_required("admin")
def revoke_token(token_id: int) -> Any:
    return _done(tokens.revoke_token(_services(), current_user.username, token_id))
