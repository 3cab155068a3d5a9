"""A tiny Flask project to audit from the console: one offloaded, one inline-heavy endpoint.

`write_shop(root)` writes it; `make_inline(root)` edits it so the offloaded endpoint calls
its task inline, adds an endpoint and removes one (for the diff between two runs).
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

from controlplane.config import AuditProject, Settings

TASKS = """
    from celery import shared_task
    import requests


    @shared_task
    def build_report(order_id):
        return requests.get(f"https://reports.example/{order_id}").text
"""
ROUTES = """
    from flask import Flask
    import requests
    from app.tasks import build_report

    app = Flask(__name__)


    @app.post("/orders/<int:order_id>/report")
    def order_report(order_id):
        build_report.delay(order_id)
        return {"queued": True}


    @app.get("/orders/<int:order_id>/invoice")
    def order_invoice(order_id):
        return requests.get(f"https://billing.example/{order_id}").text


    @app.get("/health")
    def health():
        return "ok"
"""
ROUTES_LATER = """
    from flask import Flask
    import requests
    from app.tasks import build_report

    app = Flask(__name__)


    @app.post("/orders/<int:order_id>/report")
    def order_report(order_id):
        return build_report(order_id)


    @app.get("/orders/<int:order_id>/invoice")
    def order_invoice(order_id):
        return requests.get(f"https://billing.example/{order_id}").text


    @app.get("/orders/<int:order_id>/receipt")
    def order_receipt(order_id):
        build_report.delay(order_id)
        return {"queued": True}
"""
# Text from the audited code reaches pages: a route and a call that look like markup.
HOSTILE = """
    from flask import Blueprint
    import requests

    bp = Blueprint("x", __name__)


    @bp.get("/x<img src=x onerror=alert(1)>")
    def hostile():
        return requests.get("<script>alert(2)</script>")
"""


def write(root: Path, relpath: str, text: str) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def write_shop(root: Path, hostile: bool = False) -> Path:
    write(root, "app/__init__.py", "")
    write(root, "app/tasks.py", TASKS)
    write(root, "app/routes.py", ROUTES)
    write(root, "app/broken.py", "def broken(:\n")
    if hostile:
        write(root, "app/hostile.py", HOSTILE)
    return root


def make_inline(root: Path) -> None:
    write(root, "app/routes.py", ROUTES_LATER)


def with_projects(settings: Settings, cache: Path, **projects: Path) -> Settings:
    return dataclasses.replace(
        settings,
        audit_projects=tuple(AuditProject(name, str(path)) for name, path in projects.items()),
        audit_cache_dir=str(cache),
    )


# A Flask blueprint that wraps a plain request-handler class (``RH`` in ``app/rh.py``) in a
# view calling its ``process()`` entry: shared by the handler-class snippet tests.
RH_BLUEPRINT = """
    from flask import Blueprint

    from app.rh import RH


    def make_view_func(obj):
        if isinstance(obj, type) and issubclass(obj, RH):
            def wrapper(*args, **kwargs):
                return obj().process()

            return wrapper
        return obj


    class MyBlueprint(Blueprint):
        def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
            if view_func is not None:
                view_func = make_view_func(view_func)
            super().add_url_rule(rule, endpoint, view_func, **options)
"""
