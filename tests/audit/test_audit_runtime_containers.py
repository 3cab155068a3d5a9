"""Values read out of a framework's run-time containers (PATTERNS.md item 66):
``current_app.extensions["jobs"]``, ``flask.g.jobs``, an attribute the app set on itself, a
``werkzeug.local.LocalProxy``, a Starlette/FastAPI ``app.state.jobs``. They are of unknown
type, not part of the framework: a method called on one is guessed among the project's
methods of that name (``likely``), and listed unresolved when no guess is made. Snippets
written for the audit, not copied from a project."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task


    @shared_task
    def run_report(payload):
        return payload
"""
MANAGER = """
    from app.tasks import run_report


    class ReportJobs:
        def submit_report(self, payload):
            run_report.delay(payload)
"""
PROXY = """
    from flask import current_app
    from werkzeug.local import LocalProxy

    jobs = LocalProxy(lambda: current_app.extensions["jobs"])
"""
FLASK_VIEWS = """
    from flask import Blueprint, current_app, g, request

    from app.proxy import jobs

    bp = Blueprint("reports", __name__)


    @bp.post("/extension")
    def by_extension():
        current_app.extensions["jobs"].submit_report(request.json)
        return "queued"


    @bp.post("/extension-get")
    def by_extension_get():
        current_app.extensions.get("jobs").submit_report(request.json)
        return "queued"


    @bp.post("/globals")
    def by_globals():
        g.jobs.submit_report(request.json)
        return "queued"


    @bp.post("/app-attribute")
    def by_app_attribute():
        current_app.jobs.submit_report(request.json)
        return "queued"


    @bp.post("/proxy")
    def by_proxy():
        jobs.submit_report(request.json)
        return "queued"
"""
FASTAPI_VIEWS = """
    from fastapi import FastAPI, Request

    app = FastAPI()


    @app.post("/state")
    async def by_app_state():
        app.state.jobs.submit_report({})
        return {}


    @app.post("/request-state")
    async def by_request_state(request: Request):
        request.app.state.jobs.submit_report({})
        return {}
"""


def project(views_path: str, views: str, manager: str = MANAGER) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/manager.py": manager,
        "app/proxy.py": PROXY,
        views_path: views,
    }


def test_flask_container_values_reach_the_projects_method(check) -> None:
    report = check(
        project("app/views.py", FLASK_VIEWS),
        {
            "by_extension": ("offloaded", False),
            "by_extension_get": ("offloaded", False),
            "by_globals": ("offloaded", False),
            "by_app_attribute": ("offloaded", False),
            "by_proxy": ("offloaded", False),
        },
    )
    for endpoint in report.endpoints:
        assert endpoint.confidence == "likely", endpoint.handler
        [dispatch] = [e for e in endpoint.evidence if e.kind == "dispatch"]
        assert "the receiver's type is not known" in dispatch.via[-1]


def test_starlette_state_values_reach_the_projects_method(check) -> None:
    check(
        project("app/api.py", FASTAPI_VIEWS),
        {"by_app_state": ("offloaded", False), "by_request_state": ("offloaded", False)},
    )


FRAMEWORK_OWN = """
    from flask import Blueprint, current_app, g, request

    bp = Blueprint("reports", __name__)


    @bp.post("/config")
    def reads_config():
        current_app.config.get("REPORTS")
        return "ok"


    @bp.post("/deeper")
    def deeper_attribute():
        current_app.extensions["sqlalchemy"].session.submit_report(request.json)
        return "ok"
"""


def test_flasks_own_attributes_and_deeper_values_are_not_guessed(check) -> None:
    """``config`` is Flask's own; an attribute further down a container's value is not the
    value read out of it."""
    manager = MANAGER + "\n\n    class Settings:\n        def get(self, name):\n"
    manager += "            run_report.delay(name)\n"
    report = check(
        project("app/views.py", FRAMEWORK_OWN, manager),
        {"reads_config": ("inline", False), "deeper_attribute": ("inline", False)},
    )
    assert all(e.confidence == "certain" for e in report.endpoints)


MANY_REFRESHES = """
    from app.tasks import run_report


    class Invoice:
        def refresh_totals(self):
            run_report.delay(1)


    class Receipt:
        def refresh_totals(self):
            return 2


    class Ledger:
        def refresh_totals(self):
            return 3
"""
USER_SAVE = """
    from flask import Blueprint, g

    bp = Blueprint("profile", __name__)


    @bp.post("/touch")
    def touch():
        g.user.refresh_totals()
        return "ok"
"""


@pytest.mark.parametrize("container", ["g.user", "current_app.extensions['users']"])
def test_no_guess_among_many_is_listed_unresolved(check, container: str) -> None:
    views = USER_SAVE.replace("g.user", container)
    if "current_app" in container:
        views = views.replace("import Blueprint, g", "import Blueprint, current_app")
    report = check(project("app/views.py", views, MANY_REFRESHES), {"touch": ("inline", False)})
    [endpoint] = report.endpoints
    assert endpoint.confidence == "likely"  # inline unless that call reaches a dispatch
    assert any(".refresh_totals()" in call.call for call in endpoint.unresolved_calls)
