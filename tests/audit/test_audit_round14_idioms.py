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


def test_an_attribute_typed_by_a_class_level_annotation(check):
    """Item 120: ``bus: Bus = Depends(Bus.as_dependency)`` in a class-based view and
    ``wallet: LndWallet`` narrowing what a base's ``__init__`` stores type ``self.bus`` and
    ``self.wallet``; a default that is a value of its own (``= make_bus()``) keeps its type."""
    check(
        {
            "bus.py": """
            import httpx
            from fastapi import BackgroundTasks

            class Bus:
                def __init__(self, bg: BackgroundTasks):
                    self.bg = bg

                @classmethod
                def as_dependency(cls, bg: BackgroundTasks):
                    return cls(bg)

                def dispatch(self, event):
                    self.bg.add_task(print, event)

            class Wallet:
                def __init__(self):
                    self.client = None

            class LndWallet(Wallet):
                def __init__(self):
                    self.client = httpx.Client()

            class Node:
                def __init__(self, wallet: Wallet):
                    self.wallet = wallet

            class LndNode(Node):
                wallet: LndWallet

                def info(self):
                    return self.wallet.client.get("/v1/getinfo")

            class Quiet:
                def dispatch(self, event):
                    return event

            def make_bus():
                return Quiet()
            """,
            "api.py": """
            from fastapi import APIRouter, Depends
            from bus import Bus, LndNode, LndWallet, make_bus

            router = APIRouter()

            class Controller:
                bus: Bus = Depends(Bus.as_dependency)
                quiet: Bus = make_bus()

                def publish(self, event):
                    self.bus.dispatch(event)

                def hush(self, event):
                    self.quiet.dispatch(event)

            @router.post("/recipes")
            def create(ctl: Controller = Depends()):
                ctl.publish("created")
                return {}

            @router.post("/hush")
            def hush(ctl: Controller = Depends()):
                ctl.hush("created")
                return {}

            @router.get("/node")
            def node_info():
                return LndNode(LndWallet()).info()
            """,
        },
        {
            "create": ("inprocess_background", False),
            "hush": ("inline", False),
            "node_info": ("inline", True),
        },
    )


def test_a_method_guessed_by_name_stays_in_packages_linked_by_imports(check):
    """Item 121: a call on an unknown receiver is not guessed into a package neither
    importing nor imported by the caller's (a client SDK kept in the same tree); a plugin
    package that imports the caller's package still counts."""
    report = check(
        {
            "server/__init__.py": "",
            "server/app.py": """
            from flask import Flask
            from server.store import load

            app = Flask(__name__)

            @app.get("/teams")
            def teams():
                return load().snapshot_records()

            @app.get("/plugins")
            def plugins():
                return load().render_widget()
            """,
            "server/store.py": """
            def load():
                return make()
            """,
            "client/__init__.py": "",
            "client/pages.py": """
            import requests

            class Page:
                def snapshot_records(self):
                    return requests.post("https://example.com/copy")
            """,
            "plugin/__init__.py": "",
            "plugin/widgets.py": """
            import requests
            import server.store

            class Widget:
                def render_widget(self):
                    return requests.get("https://example.com/widget")
            """,
        },
        {"teams": ("inline", False), "plugins": ("inline", True)},
    )
    assert {e.handler: e.confidence for e in report.endpoints}["teams"] == "certain"


def test_a_package_named_migrations_that_is_code_is_read(run_audit):
    """Item 122: ``services/migrations/`` holding importers a route runs is read; Django's
    numbered migrations, Alembic's folder (``env.py``, ``versions/``) and a folder of Alembic
    revisions stay skipped."""
    report = run_audit(
        {
            "app.py": """
            from fastapi import FastAPI
            from services.migrations.nextcloud import import_archive

            app = FastAPI()

            @app.post("/migrations")
            def start(path: str):
                import_archive(path)
                return {}
            """,
            "services/__init__.py": "",
            "services/migrations/__init__.py": "",
            "services/migrations/nextcloud.py": """
            import zipfile

            def import_archive(path):
                zipfile.ZipFile(path).extractall("/tmp/x")
            """,
            "shop/__init__.py": "",
            "shop/migrations/__init__.py": "",
            "shop/migrations/0001_initial.py": "from django.db import migrations\n",
            "db/migrations/env.py": "from alembic import context\n",
            "db/migrations/versions/abc_add.py": "revision = 'abc'\n",
            "plugin/migrations/93284ed9c099_add_prefix.py": "revision = '93284ed9c099'\n",
        }
    )
    (endpoint,) = report.endpoints
    assert (endpoint.status, endpoint.heavy, endpoint.confidence) == ("inline", True, "certain")
    assert report.files == 5  # app, services/__init__, services/migrations/ (2), shop/__init__
