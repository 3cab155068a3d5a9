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
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from controlplane import control, users
from controlplane.accounts import lifecycle, throttle
from controlplane.accounts.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to use the console."
login_manager.session_protection = "strong"

F = TypeVar("F", bound=Callable[..., Any])


class SessionUser(UserMixin):
    """The logged-in user as Flask-Login sees it: a detached copy, no live ORM object."""

    def __init__(self, user_id: int, username: str, role: str, generation: int = 0) -> None:
        self.id = user_id
        self.username = username
        self.role = role
        self.generation = generation

    @classmethod
    def of(cls, user: users.UserRecord | None) -> SessionUser | None:
        if user is None:
            return None
        return cls(user.id, user.username, user.role, user.session_generation)

    def get_id(self) -> str:
        """What the session cookie keeps: the user and the generation the session began in."""
        return f"{self.id}:{self.generation}"

    def may(self, role: str) -> bool:
        return users.has_role(self.role, role)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.context_processor(lambda: {"may": _may})


def _may(role: str) -> bool:
    return bool(current_user.is_authenticated and current_user.may(role))


@login_manager.user_loader
def load_user(session_id: str) -> SessionUser | None:
    """The session's user, unless the session ended: logout, a new password or disabling
    bumped the user's generation, so a cookie copied earlier no longer works anywhere."""
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None  # a cookie from before generations, or forged: logged out
    found = users.get_user(current_app.extensions["controlplane"], int(user_id))
    if found is None or found.session_generation != int(generation):
        return None
    return SessionUser.of(found)


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
    if request.method != "POST":  # HEAD too: only a POST may count a failure or log in
        if current_user.is_authenticated:
            return redirect(url_for("dashboard.index"))
        return render_template("login.html", next=_safe_next(request.args.get("next")))

    services = current_app.extensions["controlplane"]
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")
    keys = (throttle.address_key(request.remote_addr),
            throttle.user_key(username, request.remote_addr))  # fmt: skip
    wait = throttle.begin_attempt(services, keys)
    if wait > 0:
        message = f"Too many failed logins. Try again in {math.ceil(wait)} seconds."
        return render_template("login.html", error=message, next=""), 429

    found = None
    if len(password) <= MAX_PASSWORD_LENGTH:
        found = SessionUser.of(users.authenticate(services, username, password))
    if found is None:
        time.sleep(0.2)  # every failure costs the guesser time, whether or not the name exists
        message = "Wrong user name or password."
        # 200, the form again with the message: a 401 page logs an error in the browser console
        return render_template("login.html", error=message, next="")

    throttle.succeeded(services, username, request.remote_addr)
    target = _safe_next(request.form.get("next"))
    session.clear()  # a fresh session: nothing (CSRF token included) outlives the login
    login_user(found)
    return redirect(target or url_for("dashboard.index"))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        lifecycle.end_sessions(current_app.extensions["controlplane"], current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target or not target.isprintable():  # control characters: no header splitting
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return ""
    return target
