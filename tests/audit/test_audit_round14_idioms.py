"""Shapes a round-14 spot check found read wrong (PATTERNS.md items 118-). Snippets written
for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch_task(x):
        return x

    @shared_task
    def index_task(x):
        return x
"""


def _unresolved(report, handler: str) -> list[str]:
    (endpoint,) = [e for e in report.endpoints if e.handler == handler]
    return [u.call for u in endpoint.unresolved_calls]


def test_a_method_picked_by_name_pattern_on_a_class_is_followed(check):
    """Item 118: ``getattr(Alert, f"bulk_{action}")(ids)`` may run any classmethod of
    ``Alert`` named like ``bulk_*``: one of them enqueues, a guess (``likely``)."""
    report = check(
        {
            "tasks.py": TASKS,
            "models.py": """
            from tasks import crunch_task

            class Alert:
                @classmethod
                def bulk_resolve(cls, ids):
                    crunch_task.delay(ids)

                @classmethod
                def bulk_silence(cls, ids):
                    return ids
            """,
            "app.py": """
            from flask import Flask, request
            from models import Alert

            app = Flask(__name__)

            @app.post("/bulk/<action>")
            def bulk(action):
                getattr(Alert, f"bulk_{action}")(request.json["ids"])
                return "ok"

            @app.post("/other/<action>")
            def other(action):
                getattr(Alert, f"mute_{action}")(request.json["ids"])
                return "ok"
            """,
        },
        {"bulk": ("offloaded", False), "other": ("inline", False)},
    )
    confidence = {e.handler: e.confidence for e in report.endpoints}
    assert confidence == {"bulk": "likely", "other": "likely"}
    assert _unresolved(report, "bulk") == []
    # nothing of Alert is named like mute_*: a call the audit could not resolve, said so
    assert _unresolved(report, "other") == ['getattr(Alert, f"mute_{action}")(request.json["ids"])']


def test_a_function_picked_by_name_pattern_in_a_module_is_followed(check):
    """Item 118: ``getattr(tasks, f"{kind}_task").delay()`` sends a task whichever name it
    is; ``getattr(helpers, "do_" + kind)()`` may run any ``do_*`` function of the module."""
    report = check(
        {
            "tasks.py": TASKS,
            "helpers.py": """
            import requests

            def do_fetch():
                requests.get("https://example.com")

            def do_nothing():
                return 1
            """,
            "app.py": """
            from flask import Flask, request
            import helpers
            import tasks

            app = Flask(__name__)

            @app.post("/run/<kind>")
            def run(kind):
                getattr(tasks, f"{kind}_task").delay(1)
                return "ok"

            @app.post("/assigned/<kind>")
            def assigned(kind):
                task = getattr(tasks, f"{kind}_task")
                task.delay(1)
                return "ok"

            @app.post("/help/<kind>")
            def help_(kind):
                getattr(helpers, "do_" + kind)()
                return "ok"

            @app.post("/unknown/<kind>")
            def unknown(kind):
                getattr(request.thing, "do_" + kind)()
                return "ok"
            """,
        },
        {
            "run": ("offloaded", False),
            "assigned": ("offloaded", False),
            "help_": ("inline", True),
            "unknown": ("inline", False),
        },
    )
    assert _unresolved(report, "run") == []
    assert _unresolved(report, "unknown") == ['getattr(request.thing, "do_" + kind)()']
    assert {e.handler: e.confidence for e in report.endpoints}["unknown"] == "likely"


def test_an_instance_routed_as_a_view(run_audit):
    """Item 119: ``path("feed/", LatestFeed())``, an instance as the view: its class's
    ``__call__`` runs, or a library base's (syndication's ``Feed``: the library's view);
    ``SomeView().as_view()`` and an instance of a class with no ``__call__`` are listed as
    not understood, never dropped without a word."""
    report = run_audit(
        {
            "tasks.py": TASKS,
            "views.py": """
            from django.contrib.syndication.views import Feed
            from django.http import JsonResponse
            from django.views import View
            from tasks import index_task

            class LatestFeed(Feed):
                title = "latest"

                def items(self):
                    return []

            class Hook:
                def __call__(self, request):
                    index_task.delay(1)
                    return JsonResponse({})

            class Page(View):
                def get(self, request):
                    return JsonResponse({})

            class Plain:
                pass
            """,
            "urls.py": """
            from django.urls import path
            from views import Hook, LatestFeed, Page, Plain

            urlpatterns = [
                path("feed/", LatestFeed()),
                path("hook/", Hook()),
                path("page/", Page().as_view()),
                path("plain/", Plain()),
            ]
            """,
        }
    )
    got = {(e.handler, e.route, e.status, e.confidence) for e in report.endpoints}
    assert got == {
        ("LatestFeed", "/feed/", "inline", "likely"),
        ("Hook.__call__", "/hook/", "offloaded", "certain"),
    }
    reasons = {(u.line, u.reason.split(":")[0]) for u in report.unrecognized}
    assert reasons == {
        (7, "a view made from an instance of a class"),
        (8, "an instance of a class that defines no __call__ the audit can see"),
    }
