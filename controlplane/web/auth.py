"""Login and logout, roles on every view, and bearer tokens for the JSON API."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from controlplane import control, users
from controlplane.web.throttle import LoginThrottle

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to use the console."
login_manager.session_protection = "strong"

F = TypeVar("F", bound=Callable[..., Any])


class SessionUser(UserMixin):
    """The logged-in user as Flask-Login sees it: a detached copy, no live ORM object."""

    def __init__(self, user_id: int, username: str, role: str) -> None:
        self.id = user_id
        self.username = username
        self.role = role

    @classmethod
    def of(cls, user: users.UserRecord | None) -> SessionUser | None:
        return None if user is None else cls(user.id, user.username, user.role)

    def may(self, role: str) -> bool:
        return users.has_role(self.role, role)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.extensions["login_throttle"] = LoginThrottle(
        app.extensions["controlplane"].settings.login_max_failures,
        app.extensions["controlplane"].settings.login_window_seconds,
    )
    app.context_processor(lambda: {"may": _may})


def _may(role: str) -> bool:
    return bool(current_user.is_authenticated and current_user.may(role))


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    return SessionUser.of(users.get_user(current_app.extensions["controlplane"], int(user_id)))


def role_required(role: str) -> Callable[[F], F]:
    """A console view for users of at least `role`; anonymous users go to the login page."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.may(role):
                refused(current_user.username, role)
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def api_role_required(role: str) -> Callable[[F], F]:
    """A JSON API view for a bearer token whose user has at least `role` (401/403 otherwise)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = _user_from_bearer()
            if user is None:
                response = jsonify(error="authentication required: send Authorization: Bearer")
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="controlplane"'
                return response
            if not user.may(role):
                refused(user.username, role)
                response = jsonify(error=f"forbidden: this action needs the {role} role")
                response.status_code = 403
                return response
            g.api_user = user
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _user_from_bearer() -> SessionUser | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    services = current_app.extensions["controlplane"]
    return SessionUser.of(users.user_for_token(services, token.strip()))


def refused(actor: str, role: str) -> None:
    """Every 403 for a role goes into the action log (FAULTS.md row 15)."""
    route = f"{request.method} {request.path}"
    control.log_refusal(current_app.extensions["controlplane"], actor, route,
                        f"forbidden: needs the {role} role")  # fmt: skip


def actor_name() -> str:
    """Who is acting in this request, for the action log."""
    api_user = g.get("api_user")
    if api_user is not None:
        return str(api_user.username)
    if current_user.is_authenticated:
        return str(current_user.username)
    return "anonymous"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("dashboard.index"))
        return render_template("login.html", next=_safe_next(request.args.get("next")))

    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:1024]
    keys = (f"user:{username.strip().lower()}", f"addr:{request.remote_addr}")
    throttle: LoginThrottle = current_app.extensions["login_throttle"]
    wait = throttle.retry_after(*keys)
    if wait > 0:
        message = f"Too many failed logins. Try again in {math.ceil(wait)} seconds."
        return render_template("login.html", error=message, next=""), 429

    found = SessionUser.of(
        users.authenticate(current_app.extensions["controlplane"], username, password)
    )
    if found is None:
        throttle.failed(*keys)
        time.sleep(0.2)  # every failure costs the guesser time, whether or not the name exists
        message = "Wrong user name or password."
        # 200, the form again with the message: a 401 page logs an error in the browser console
        return render_template("login.html", error=message, next="")

    throttle.succeeded(*keys)
    login_user(found)
    return redirect(_safe_next(request.form.get("next")) or url_for("dashboard.index"))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return ""
    return target
