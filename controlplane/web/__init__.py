"""The Flask app factory: console pages, the JSON API, health endpoints, /metrics."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect

from controlplane.services import Services
from controlplane.web.sessions import CachedSignerSessionInterface

csrf = CSRFProtect()
htmx = HTMX()
log = logging.getLogger(__name__)


def create_app(services: Services, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the console for `services`; `test_config` overrides Flask settings in tests."""
    app = Flask(__name__)
    settings = services.settings
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_urlsafe(32),
        SESSION_COOKIE_NAME="controlplane_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.effective_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.effective_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        WTF_CSRF_SSL_STRICT=settings.effective_cookie_secure,
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["controlplane"] = services
    app.session_interface = CachedSignerSessionInterface()

    csrf.init_app(app)
    htmx.init_app(app)

    from controlplane.web import auth, filters, health, outage, security
    from controlplane.web import metrics as metrics_view
    from controlplane.web.api import alerting as api_alerting
    from controlplane.web.api import alerts as api_alerts
    from controlplane.web.api import audit as api_audit
    from controlplane.web.api import fleet as api
    from controlplane.web.api import fleet_controls as api_fleet_controls
    from controlplane.web.api import openapi
    from controlplane.web.api import tasks as api_tasks
    from controlplane.web.api import workflows as api_workflows
    from controlplane.web.pages import (
        actions,
        alerting,
        alerts,
        audit,
        dashboard,
        fleet,
        fleet_actions,
        fleet_controls,
        insights,
        scaling,
        tasks,
        users,
    )

    auth.init_app(app)
    security.init_app(app)
    outage.init_app(app)
    filters.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(fleet.bp)
    app.register_blueprint(scaling.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(insights.bp)
    app.register_blueprint(fleet_actions.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(alerting.bp)
    app.register_blueprint(fleet_controls.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_tasks.bp)
    app.register_blueprint(api_audit.bp)
    app.register_blueprint(api_alerts.bp)
    app.register_blueprint(api_alerting.bp)
    app.register_blueprint(api_fleet_controls.bp)
    app.register_blueprint(api_workflows.bp)
    app.register_blueprint(openapi.bp)
    _register_failures_and_schedules(app)
    metrics_view.init_app(app)
    # The API takes bearer tokens only, never the session cookie, so CSRF cannot apply.
    csrf.exempt(api.bp)
    csrf.exempt(api_tasks.bp)
    csrf.exempt(api_audit.bp)
    csrf.exempt(api_alerts.bp)
    csrf.exempt(api_alerting.bp)
    csrf.exempt(api_fleet_controls.bp)
    return app


def _register_failures_and_schedules(app: Flask) -> None:
    """Failure groups and schedules (#18 parts 2-3): pages and their JSON API."""
    from controlplane.web.api import failures as api_failures
    from controlplane.web.api import schedules as api_schedules
    from controlplane.web.pages import failures, schedules

    app.register_blueprint(failures.bp)
    app.register_blueprint(schedules.bp)
    app.register_blueprint(api_failures.bp)
    app.register_blueprint(api_schedules.bp)
    csrf.exempt(api_failures.bp)
    csrf.exempt(api_schedules.bp)
