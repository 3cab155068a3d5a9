"""Views registered by a project decorator into a registry and turned into ``path()``s by a
project function called in a URLconf (issue 14, brief item 3; the shape netbox uses).
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

from controlplane.migrations_audit.report import LIKELY

REGISTRY = """
    from collections import defaultdict

    views = defaultdict(lambda: defaultdict(list))
"""
DECORATOR = """
    from proj.registry import views

    def register_view(model, name="", path=None, detail=True):
        def wrapper(cls):
            views[model._meta.model_name].append(
                {"name": name, "view": cls, "path": path if path is not None else name,
                 "detail": detail}
            )
            return cls
        return wrapper
"""
BUILDER = """
    from django.urls import path
    from proj.registry import views

    def get_urls(app_label, model_name, detail=True):
        out = []
        for config in views[model_name]:
            if config["detail"] == detail:
                out.append(path(config["path"] + "/", config["view"].as_view()))
        return out
"""
MODELS = """
    from django.db import models

    class Shelf(models.Model):
        name = models.CharField(max_length=10)
"""
TASKS = """
    from celery import shared_task

    @shared_task
    def reindex(pk):
        return pk
"""
VIEWS = """
    from django.views import View
    from django.views.generic import ListView
    from proj.decorators import register_view
    from proj.models import Shelf
    from proj.tasks import reindex

    @register_view(Shelf, "list", path="", detail=False)
    class ShelfListView(ListView):
        pass

    @register_view(Shelf, "reindex")
    class ShelfReindexView(View):
        def post(self, request, pk):
            reindex.delay(pk)
"""
URLS = """
    from django.urls import include, path
    from proj.builders import get_urls

    urlpatterns = [
        path("shelves/", include(get_urls("proj", "shelf", detail=False))),
        path("shelves/<int:pk>/", include(get_urls("proj", "shelf"))),
    ]
"""


def files(**changes: str) -> dict[str, str]:
    tree = {
        "proj/__init__.py": "",
        "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
        "proj/registry.py": REGISTRY,
        "proj/decorators.py": DECORATOR,
        "proj/builders.py": BUILDER,
        "proj/models.py": MODELS,
        "proj/tasks.py": TASKS,
        "proj/views.py": VIEWS,
        "proj/urls.py": URLS,
    }
    tree.update(changes)
    return tree


def found(report):
    return {e.handler: (e.route, e.status, e.confidence) for e in report.endpoints}


def test_decorated_views_are_routed_under_the_builder_call_for_their_model(run_audit):
    assert found(run_audit(files())) == {
        "ShelfListView.get": ("/shelves/", "inline", LIKELY),
        "ShelfReindexView.post": ("/shelves/<int:pk>/reindex/", "offloaded", LIKELY),
    }


def test_without_a_builder_of_url_patterns_a_registry_routes_nothing(run_audit):
    # the same decorator, but nothing turns the records into path()s
    report = run_audit(
        files(
            **{
                "proj/builders.py": """
                from proj.registry import views

                def describe(model_name):
                    return [c["name"] for c in views[model_name]]
                """,
                "proj/urls.py": "urlpatterns = []\n",
            }
        )
    )
    assert report.endpoints == []


def test_a_decorator_that_wraps_the_class_instead_of_recording_it_routes_nothing(run_audit):
    report = run_audit(
        files(
            **{
                "proj/decorators.py": """
                from proj.registry import views

                def register_view(model, name="", path=None, detail=True):
                    def wrapper(cls):
                        views[name].append(cls)
                        return make_proxy(cls)
                    return wrapper

                def make_proxy(cls):
                    return cls
                """
            }
        )
    )
    assert report.endpoints == []
