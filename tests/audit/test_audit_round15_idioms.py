"""Shapes a round-15 look at registration code found read wrong or unsaid (PATTERNS.md
items 138-). Snippets written for the audit, not copied from a project."""

from __future__ import annotations


def test_url_patterns_built_by_a_comprehension_are_listed_not_dropped(run_audit):
    """Item 138: ``urlpatterns = [path(...) for ... in ...]`` and a comprehension spread
    into a URL list were read as no routes at all, with nothing said; they are registrations
    the audit could not read, listed with their line, and the written ``path()``s beside
    them still count."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse

            def page(request, name):
                return JsonResponse({})

            def health(request):
                return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import health, page

            NAMES = ["about", "terms"]

            urlpatterns = [path(f"{name}/", page, {"name": name}) for name in NAMES]
            """,
            "more_urls.py": """
            from django.urls import path
            from views import health, page

            urlpatterns = [
                path("health/", health),
                *[path(f"{n}/", page) for n in ("a", "b")],
            ]
            """,
        }
    )
    assert {(e.file, e.handler, e.route) for e in report.endpoints} == {
        ("views.py", "health", "/health/")
    }
    assert sorted((u.file, u.line) for u in report.unrecognized) == [
        ("more_urls.py", 6),
        ("urls.py", 6),
    ]


def test_url_patterns_empty_or_referenced_say_nothing(run_audit):
    """Item 138, negative: an empty URL list, one taken from a router, and a list of
    written ``path()``s are read as before, with nothing listed."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse

            def health(request):
                return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import health

            urlpatterns = []
            urlpatterns += [path("health/", health)]
            """,
        }
    )
    assert [(e.handler, e.route) for e in report.endpoints] == [("health", "/health/")]
    assert report.unrecognized == []


def test_a_router_included_under_two_prefixes_is_routed_under_both(run_audit):
    """Item 139: one ``APIRouter`` included twice (``/api`` and ``/api/v1``), one blueprint
    registered twice with two ``url_prefix``es: each route is served under both, and was
    reported under the first one only."""
    report = run_audit(
        {
            "items.py": """
            from fastapi import APIRouter

            router = APIRouter(prefix="/items")

            @router.get("/{item_id}")
            def read_item(item_id: int):
                return {}
            """,
            "main.py": """
            from fastapi import FastAPI
            from items import router

            app = FastAPI()
            app.include_router(router, prefix="/api")
            app.include_router(router, prefix="/api/v1")
            """,
            "web.py": """
            from flask import Blueprint, Flask

            bp = Blueprint("pages", __name__)

            @bp.route("/about")
            def about():
                return "about"

            app = Flask(__name__)
            app.register_blueprint(bp, url_prefix="/en")
            app.register_blueprint(bp, url_prefix="/de", name="pages_de")
            """,
        }
    )
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("about", "/de/about"),
        ("about", "/en/about"),
        ("read_item", "/api/items/{item_id}"),
        ("read_item", "/api/v1/items/{item_id}"),
    ]


def test_a_router_included_once_keeps_one_route(run_audit):
    """Item 139, negative: a router included once, in a module imported twice over, is one
    route per handler."""
    report = run_audit(
        {
            "items.py": """
            from fastapi import APIRouter

            router = APIRouter()

            @router.post("/items")
            def create_item():
                return {}
            """,
            "main.py": """
            from fastapi import FastAPI
            from items import router

            app = FastAPI()
            app.include_router(router, prefix="/api")
            """,
        }
    )
    assert [(e.handler, e.route) for e in report.endpoints] == [("create_item", "/api/items")]
