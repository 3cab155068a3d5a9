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


TASK_PROCESSOR = """
    from task_processor.decorators import register_task_handler

    @register_task_handler()
    def write_environments(project_id):
        return project_id
"""


def test_delay_on_a_function_a_library_registers_as_a_task(run_audit):
    """Item 140: ``.delay()`` on a function decorated by another library's task
    registration (flagsmith's ``@register_task_handler()``) hands the work to that
    library's queue, named after it, a guess by name (``likely``); it was dropped, and the
    endpoint read inline and certain with nothing said."""
    report = run_audit(
        {
            "tasks.py": TASK_PROCESSOR,
            "views.py": """
            from django.http import JsonResponse
            from tasks import write_environments

            def publish(request, pk):
                write_environments.delay(kwargs={"project_id": pk})
                return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import publish

            urlpatterns = [path("publish/<int:pk>/", publish)]
            """,
        }
    )
    (endpoint,) = report.endpoints
    assert (endpoint.status, endpoint.confidence) == ("offloaded", "likely")
    assert [e.queue_system for e in endpoint.evidence if e.kind == "dispatch"] == ["task_processor"]


def test_delay_given_by_a_project_decorator_is_said_unresolved(run_audit):
    """Item 140: a project decorator that attaches its own ``.delay`` to the function
    (``func.delay = partial(run_later, func)``: jumpserver's debouncer) does not make a
    Celery task; the call is one the audit could not resolve, listed, never dropped. A
    plain function's ``.delay`` stays as before."""
    report = run_audit(
        {
            "later.py": """
            import functools
            from concurrent.futures import ThreadPoolExecutor

            executor = ThreadPoolExecutor()

            def run_later(func, *args, **kwargs):
                executor.submit(func, *args, **kwargs)

            def merge_delay_run(ttl=5):
                def inner(func):
                    func.delay = functools.partial(run_later, func)

                    @functools.wraps(func)
                    def wrapper(*args, **kwargs):
                        return func(*args, **kwargs)

                    return wrapper

                return inner

            @merge_delay_run(ttl=30)
            def refresh_counts(ids=()):
                return ids
            """,
            "views.py": """
            from django.http import JsonResponse
            from later import refresh_counts

            def touch(request, pk):
                refresh_counts.delay(ids=(pk,))
                return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import touch

            urlpatterns = [path("touch/<int:pk>/", touch)]
            """,
        }
    )
    (endpoint,) = report.endpoints
    assert endpoint.status == "unresolved"
    assert [(u.file, u.line) for u in endpoint.unresolved_calls] == [("views.py", 5)]


def test_a_thread_started_once_per_object_is_not_the_requests_work(check):
    """Item 141: a cache's cleanup thread started on first use, behind ``if
    self.cleaner.is_alive(): return`` (mindsdb's handler cache), runs once per process
    whatever the request: it is not work the request pushed to the background. A thread
    the request starts each time stays in-process background."""
    check(
        {
            "cache.py": """
            import threading

            class HandlersCache:
                def __init__(self):
                    self.cleaner = None
                    self.handlers = {}
                    self._stop = threading.Event()

                def _start_clean(self):
                    if isinstance(self.cleaner, threading.Thread) and self.cleaner.is_alive():
                        return
                    self.cleaner = threading.Thread(target=self._clean, daemon=True)
                    self.cleaner.start()

                def _clean(self):
                    while self._stop.wait(timeout=10) is False:
                        self.handlers.clear()

                def set(self, name, handler):
                    self.handlers[name] = handler
                    self._start_clean()

                def notify(self, name):
                    self.mailer = threading.Thread(target=print, args=(name,))
                    self.mailer.start()

            handlers_cache = HandlersCache()
            """,
            "app.py": """
            from flask import Flask
            from cache import handlers_cache

            app = Flask(__name__)

            @app.post("/handlers/<name>")
            def add_handler(name):
                handlers_cache.set(name, object())
                return "ok"

            @app.post("/notify/<name>")
            def notify(name):
                handlers_cache.notify(name)
                return "ok"
            """,
        },
        {
            "add_handler": ("inline", False),
            "notify": ("inprocess_background", False),
        },
    )


def test_a_generic_alias_base_and_actions_methods_as_drf_reads_them(run_audit):
    """Item 142: ``class Env(RetrieveAPIView[Environment])`` (typed DRF generics) derives
    from ``RetrieveAPIView``: it answers GET (it was listed as answering nothing);
    ``@action(["post"], detail=False)`` gives the methods by position, and
    ``@action(methods=[POST])`` names a constant another module holds: both POST (they were
    read as GET)."""
    report = run_audit(
        {
            "consts.py": """
            POST = "post"
            """,
            "views.py": """
            from rest_framework import generics
            from rest_framework.decorators import action
            from rest_framework.generics import RetrieveAPIView
            from rest_framework.viewsets import GenericViewSet
            from consts import POST

            class Env(RetrieveAPIView["Environment"]):
                pass

            class Create(generics.CreateAPIView[int]):
                pass

            class Things(GenericViewSet):
                @action(["post"], detail=False)
                def start(self, request):
                    return None

                @action(methods=[POST], detail=True)
                def render(self, request, pk=None):
                    return None

                @action(detail=True)
                def show(self, request, pk=None):
                    return None
            """,
            "urls.py": """
            from django.urls import path
            from rest_framework.routers import DefaultRouter
            from views import Create, Env, Things

            router = DefaultRouter()
            router.register("things", Things, basename="things")
            urlpatterns = [
                path("env/", Env.as_view()),
                path("create/", Create.as_view()),
            ] + router.urls
            """,
        }
    )
    assert {(e.handler, e.methods, e.route) for e in report.endpoints} == {
        ("Env.get", ("GET",), "/env/"),
        ("Create.post", ("POST",), "/create/"),
        ("Things.start", ("POST",), "/things/start/"),
        ("Things.render", ("POST",), "/things/{pk}/render/"),
        ("Things.show", ("GET",), "/things/{pk}/show/"),
    }
    assert report.unrecognized == []


def test_a_blueprint_made_by_a_factory_takes_its_registered_prefix(run_audit):
    """Item 143: ``app.register_blueprint(main.make_blueprint(config), url_prefix="/account")``
    with the blueprint a local the factory returns, its routes decorated inside (securedrop's
    journalist and source apps): the routes were shown without ``/account``. A factory
    registered twice gives both prefixes; a local blueprint the factory does not return
    keeps its own routes as written."""
    report = run_audit(
        {
            "main.py": """
            from flask import Blueprint

            def make_blueprint(config):
                view = Blueprint("main", __name__)

                @view.route("/login", methods=["POST"])
                def login():
                    return "ok"

                return view

            def make_other():
                other = Blueprint("other", __name__)

                @other.route("/ping")
                def ping():
                    return "pong"

                return None
            """,
            "app.py": """
            from flask import Flask
            import main

            def create_app(config):
                app = Flask(__name__)
                app.register_blueprint(main.make_blueprint(config), url_prefix="/account")
                app.register_blueprint(main.make_other(), url_prefix="/other")
                return app
            """,
        }
    )
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("login", "/account/login"),
        ("ping", "/ping"),
    ]


def test_a_function_picked_from_a_local_table_into_a_variable_is_followed(check):
    """Item 144: ``method = actions[action]; method(ids)`` (securedrop's bulk actions) and
    ``handler = actions.get(name); handler(ids)`` run one of the table's functions, as
    ``actions[action](ids)`` already did: each is followed. They were dropped, nothing
    said. A variable bound again to something else is not the table's any more."""
    check(
        {
            "app.py": """
            import zipfile
            from flask import Flask, request

            app = Flask(__name__)

            def download(ids):
                with zipfile.ZipFile("/tmp/bulk.zip", "w") as archive:
                    archive.write("a")
                return "ok"

            def star(ids):
                return "ok"

            @app.post("/process")
            def process():
                actions = {"download": download, "star": star}
                method = actions[request.form["action"]]
                return method(request.form.getlist("ids"))

            @app.post("/got")
            def got():
                actions = {"download": download, "star": star}
                handler = actions.get(request.form["action"])
                return handler(request.form.getlist("ids"))

            @app.post("/rebound")
            def rebound():
                actions = {"download": download, "star": star}
                method = actions[request.form["action"]]
                method = star
                return method(request.form.getlist("ids"))
            """,
        },
        {
            "process": ("inline", True),
            "got": ("inline", True),
            "rebound": ("inline", False),
        },
    )


def test_django_lifecycle_hooks_run_on_the_models_save_and_delete(check):
    """Item 145: django-lifecycle's ``@hook(AFTER_UPDATE)`` / ``@hook(AFTER_DELETE)``
    methods on a ``LifecycleModelMixin`` model run from its ``save()`` / ``delete()``
    (flagsmith: 76 hooks, some enqueueing): they were never followed. A save runs the
    create/update/save hooks, a delete the delete hooks; a model without the mixin, or a
    method without ``@hook``, runs nothing of the kind."""
    check(
        {
            "tasks.py": """
            from celery import shared_task

            @shared_task
            def write_to_dynamo(pk):
                return pk
            """,
            "models.py": """
            import requests
            from django.db import models
            from django_lifecycle import AFTER_DELETE, AFTER_UPDATE, LifecycleModelMixin, hook
            from tasks import write_to_dynamo

            class Project(LifecycleModelMixin, models.Model):
                name = models.CharField(max_length=20)

                @hook(AFTER_UPDATE)
                def sync(self):
                    write_to_dynamo.delay(self.pk)

                @hook(AFTER_DELETE)
                def clean_up(self):
                    requests.delete("https://dynamo.example/" + str(self.pk))

                def not_a_hook(self):
                    write_to_dynamo.delay(self.pk)

            class Plain(models.Model):
                name = models.CharField(max_length=20)

                @hook(AFTER_UPDATE)
                def sync(self):
                    write_to_dynamo.delay(self.pk)
            """,
            "views.py": """
            from django.http import JsonResponse
            from models import Plain, Project

            def rename(request, pk):
                project = Project.objects.get(pk=pk)
                project.name = request.POST["name"]
                project.save()
                return JsonResponse({})

            def remove(request, pk):
                Project.objects.get(pk=pk).delete()
                return JsonResponse({})

            def rename_plain(request, pk):
                plain = Plain.objects.get(pk=pk)
                plain.save()
                return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import remove, rename, rename_plain

            urlpatterns = [
                path("rename/<int:pk>/", rename),
                path("remove/<int:pk>/", remove),
                path("plain/<int:pk>/", rename_plain),
            ]
            """,
        },
        {
            "rename": ("offloaded", False),
            "remove": ("inline", True),
            "rename_plain": ("inline", False),
        },
    )


def test_a_library_function_picked_by_a_computed_name(check):
    """Item 146: ``getattr(requests, method)(url)`` (jumpserver's chat-app tests: the verb a
    parameter) runs one of ``requests``' functions, each an HTTP call: heavy. It was a value
    the audit could not know, dropped. The same on a library with no heavy functions, or on
    a project module, stays as it was."""
    check(
        {
            "handlers.py": """
            def ping(x):
                return x
            """,
            "app.py": """
            import json
            import requests
            from flask import Flask, request
            import handlers

            app = Flask(__name__)

            def send(url, method="get"):
                return getattr(requests, method)(url, timeout=5)

            @app.post("/hook")
            def hook():
                send(request.json["url"], request.json.get("method", "post"))
                return "ok"

            @app.post("/codec")
            def codec():
                return getattr(json, request.json["how"])(request.json["data"])

            @app.post("/local")
            def local():
                return getattr(handlers, request.json["name"])(1)
            """,
        },
        {"hook": ("inline", True), "codec": ("inline", False), "local": ("inline", False)},
    )


def test_an_included_urls_package_that_reexports_its_patterns(run_audit):
    """Item 147: ``include("auth.urls")`` where ``auth/urls/__init__.py`` only imports
    ``urlpatterns`` from ``auth/urls/base.py`` (a tuple there): the routes were shown as a
    root of their own, without ``/api/v1/auth/``; they are under the include, once."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse

            def activate(request, method):
                return JsonResponse({})
            """,
            "auth/__init__.py": "",
            "auth/urls/__init__.py": """
            from .base import urlpatterns  # noqa: F401
            """,
            "auth/urls/base.py": """
            from django.urls import path
            from views import activate

            urlpatterns = (path("<str:method>/activate/", activate),)
            """,
            "urls.py": """
            from django.urls import include, path

            urlpatterns = [path("api/v1/auth/", include("auth.urls"))]
            """,
        }
    )
    assert [(e.handler, e.route) for e in report.endpoints] == [
        ("activate", "/api/v1/auth/<str:method>/activate/")
    ]


def test_a_handle_a_helper_waits_for_is_not_background(check):
    """Item 148: a subprocess or thread handed to a helper that waits for its parameter
    (securedrop's vendored gnupg: ``p = self._open_subprocess(args);
    self._collect_output(p, result)``, which joins its readers and ``p.wait()``s) runs in
    the request: inline, and heavy for a subprocess, also when a helper returns the Popen
    and the caller waits for it. It was in-process background. A handle passed to a helper
    that does not wait stays in the background."""
    check(
        {
            "gpg.py": """
            import subprocess
            import threading

            def collect(process):
                out = process.stdout.read()
                process.wait()
                return out

            def join_it(worker):
                worker.join()

            def log_it(worker):
                print(worker.name)

            def opener():
                return subprocess.Popen(["gpg", "--list-keys"], stdout=subprocess.PIPE)

            class GPG:
                def _open(self, args):
                    return subprocess.Popen(["gpg", *args], stdout=subprocess.PIPE)

                def _collect_output(self, process, result):
                    result.append(process.stdout.read())
                    process.wait()

                def delete_keys(self, fingerprint):
                    result = []
                    p = self._open(["--delete-keys", fingerprint])
                    self._collect_output(p, result)
                    return result
            """,
            "app.py": """
            import subprocess
            import threading
            from flask import Flask
            from gpg import GPG, collect, join_it, log_it, opener

            app = Flask(__name__)

            def work():
                return 1

            @app.post("/a")
            def a():
                p = subprocess.Popen(["gpg"], stdout=subprocess.PIPE)
                return collect(p)

            @app.post("/b")
            def b():
                t = threading.Thread(target=work)
                t.start()
                join_it(t)
                return "ok"

            @app.post("/c")
            def c():
                t = threading.Thread(target=work)
                t.start()
                log_it(t)
                return "ok"

            @app.post("/d")
            def d():
                p = opener()
                p.wait()
                return "ok"

            @app.post("/keys/<fp>")
            def delete_key(fp):
                GPG().delete_keys(fp)
                return "ok"
            """,
        },
        {
            "a": ("inline", True),
            "b": ("inline", False),
            "c": ("inprocess_background", False),
            "d": ("inline", True),
            "delete_key": ("inline", True),
        },
    )


def test_calls_on_a_module_loaded_by_name_are_listed(run_audit):
    """Item 149: ``m = importlib.import_module(f"sdk.sms.{backend}"); m.client(...).send_sms()``
    (jumpserver's SMS and vault backends): which module runs is known at run time only; its
    calls were dropped, the endpoint inline and certain. They are calls the audit could not
    resolve, listed (the status stays, ``likely``)."""
    report = run_audit(
        {
            "app.py": """
            import importlib
            from flask import Flask, request

            app = Flask(__name__)

            @app.post("/sms")
            def sms():
                m = importlib.import_module(f"sdk.sms.{request.json['backend']}")
                m.client(key="x").send_sms(request.json["to"], "hi")
                return "ok"

            @app.post("/plain")
            def plain():
                return request.json["to"].strip()
            """,
        }
    )
    got = {
        e.handler: (e.status, e.confidence, [u.line for u in e.unresolved_calls])
        for e in report.endpoints
    }
    assert got == {"sms": ("inline", "likely", [9, 9]), "plain": ("inline", "certain", [])}


def test_a_future_waited_only_when_the_caller_asks_is_background_otherwise(check):
    """Item 150: ``task = pool.submit(train, data); if join_learn_process is True:
    task.result()`` (mindsdb's model training, ``join_learn_process=False`` by default):
    the wait under the ``if`` made the future waited on every path, so the training that
    outlives the response was inline. Where the caller's arguments rule the waiting branch
    out, the future is not waited; where they choose it, or cannot be told, it is."""
    check(
        {
            "ml.py": """
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(1)

            def train(data):
                return data

            def learn(data, join_learn_process=False):
                task = pool.submit(train, data)
                if join_learn_process is True:
                    task.result()
                else:
                    task.add_done_callback(print)
                return "queued"
            """,
            "app.py": """
            from flask import Flask, request
            from ml import learn

            app = Flask(__name__)

            @app.post("/learn")
            def learn_view():
                return learn(request.json)

            @app.post("/learn-sync")
            def learn_sync():
                return learn(request.json, join_learn_process=True)

            @app.post("/learn-maybe")
            def learn_maybe():
                return learn(request.json, join_learn_process=request.json["wait"])
            """,
        },
        {
            "learn_view": ("inprocess_background", False),
            "learn_sync": ("inline", False),
            "learn_maybe": ("inline", False),
        },
    )


def test_rest_framework_bulk_viewsets_are_routed_as_drf_reads_them(run_audit):
    """Item 151: ``class AssetViewSet(BulkModelViewSet)`` (djangorestframework-bulk:
    jumpserver's 66 viewsets) was listed as another library's viewset whose routes are not
    known, and none of its routes was reported. It is a ``ModelViewSet`` with bulk update
    and delete: its standard routes, and under ``BulkRouter`` the list route's PUT, PATCH
    and DELETE (``bulk_update``, ``partial_bulk_update``, ``bulk_destroy``), each run as
    the library does (``perform_create`` for a create, ``perform_destroy`` per row)."""
    report = run_audit(
        {
            "tasks.py": """
            from celery import shared_task

            @shared_task
            def index_asset(pk):
                return pk
            """,
            "models.py": """
            from django.db import models

            class Asset(models.Model):
                name = models.CharField(max_length=10)
            """,
            "views.py": """
            from rest_framework_bulk import BulkModelViewSet
            from models import Asset
            from tasks import index_asset

            class AssetViewSet(BulkModelViewSet):
                queryset = Asset.objects.all()

                def perform_create(self, serializer):
                    index_asset.delay(serializer.save().pk)

                def perform_destroy(self, instance):
                    index_asset.delay(instance.pk)
                    instance.delete()
            """,
            "urls.py": """
            from rest_framework_bulk.routes import BulkRouter
            from views import AssetViewSet

            router = BulkRouter()
            router.register("assets", AssetViewSet)
            urlpatterns = router.urls
            """,
        }
    )
    got = {(e.handler, e.methods, e.route): e.status for e in report.endpoints}
    assert got == {
        ("AssetViewSet.list", ("GET",), "/assets/"): "inline",
        ("AssetViewSet.create", ("POST",), "/assets/"): "offloaded",
        ("AssetViewSet.retrieve", ("GET",), "/assets/{pk}/"): "inline",
        ("AssetViewSet.update", ("PUT",), "/assets/{pk}/"): "inline",
        ("AssetViewSet.partial_update", ("PATCH",), "/assets/{pk}/"): "inline",
        ("AssetViewSet.destroy", ("DELETE",), "/assets/{pk}/"): "offloaded",
        ("AssetViewSet.bulk_update", ("PUT",), "/assets/"): "inline",
        ("AssetViewSet.partial_bulk_update", ("PATCH",), "/assets/"): "inline",
        ("AssetViewSet.bulk_destroy", ("DELETE",), "/assets/"): "offloaded",
    }
    assert report.unrecognized == []


def test_a_nested_router_ends_its_routes_as_its_parent_does(run_audit):
    """Item 152: drf-nested-routers' ``NestedSimpleRouter(parent, "vendors", ...)`` takes
    ``trailing_slash`` from its parent when not given one (opencve: 34 of 172 routes shown
    with a "/" they do not have)."""
    report = run_audit(
        {
            "views.py": """
            from rest_framework import viewsets

            class VendorViewSet(viewsets.ReadOnlyModelViewSet):
                lookup_field = "name"

            class ProductViewSet(viewsets.ReadOnlyModelViewSet):
                pass
            """,
            "urls.py": """
            from rest_framework import routers
            from rest_framework_nested import routers as nested
            from views import ProductViewSet, VendorViewSet

            router = routers.DefaultRouter(trailing_slash=False)
            router.register("vendors", VendorViewSet, basename="vendor")
            products = nested.NestedSimpleRouter(router, "vendors", lookup="vendor")
            products.register("products", ProductViewSet, basename="product")
            urlpatterns = router.urls + products.urls
            """,
        }
    )
    assert sorted(e.route for e in report.endpoints) == [
        "/vendors",
        "/vendors/{name}",
        "/vendors/{vendor_name}/products",
        "/vendors/{vendor_name}/products/{pk}",
    ]


def test_a_route_formatted_with_percent(run_audit):
    """Item 153: ``re_path(r"^%s(?P<path>.*)$" % re.escape(settings.MEDIA_URL), serve)``
    (doccano's media route) was shown as ``/``, as if the route were empty; a ``%``-format
    of known strings is its value, and one of unknown values keeps its placeholders."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse

            def serve(request, path):
                return JsonResponse({})

            def page(request, path):
                return JsonResponse({})
            """,
            "urls.py": """
            import re
            from django.conf import settings
            from django.urls import re_path
            from views import page, serve

            PAGES = "pages"

            urlpatterns = [
                re_path(r"^%s(?P<path>.*)$" % re.escape(settings.MEDIA_URL), serve),
                re_path(r"^%s/(?P<path>.*)$" % PAGES, page),
            ]
            """,
        }
    )
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("page", "/pages/(?P<path>.*)"),
        ("serve", "/%s(?P<path>.*)"),
    ]


def test_a_method_of_an_instance_made_from_a_table_of_classes(check):
    """Item 154: ``cls = REGISTRY.get(kind); cls(extras).run()`` and
    ``REGISTRY[kind](extras).run()`` with ``REGISTRY = {"webhook": WebhookTester, ...}``
    (opencve's notification "try" buttons): any class's ``run`` may run; they were
    dropped, nothing said, as ``SERVICES[kind].run()`` on instances already was not."""
    check(
        {
            "testers.py": """
            import requests

            class WebhookTester:
                def __init__(self, extras):
                    self.extras = extras

                def run(self):
                    return requests.post(self.extras["url"], json={}, timeout=5)

            class NoopTester:
                def __init__(self, extras):
                    self.extras = extras

                def run(self):
                    return None

            REGISTRY = {"webhook": WebhookTester, "noop": NoopTester}

            def run_try(kind, extras):
                cls = REGISTRY.get(kind)
                if not cls:
                    return None
                tester = cls(extras)
                return tester.run()

            def run_direct(kind, extras):
                return REGISTRY[kind](extras).run()
            """,
            "app.py": """
            from flask import Flask, request
            from testers import run_direct, run_try

            app = Flask(__name__)

            @app.post("/try/<kind>")
            def try_it(kind):
                run_try(kind, request.json)
                return "ok"

            @app.post("/direct/<kind>")
            def direct(kind):
                run_direct(kind, request.json)
                return "ok"
            """,
        },
        {"try_it": ("inline", True), "direct": ("inline", True)},
    )


def test_allauth_signup_and_password_reset_views_mail_in_the_request(run_audit):
    """Item 155: a project view deriving from django-allauth's ``SignupView`` (a
    verification mail on signup), ``PasswordResetView`` (the reset link) or ``EmailView``
    (adding an address mails a confirmation) sends mail in the request; the signup view
    answered any method, not heavy. Its GET is plain; allauth's ``LoginView`` stays not
    heavy (it mails only under a mandatory-verification setting)."""
    report = run_audit(
        {
            "views.py": """
            from allauth.account.views import EmailView, LoginView, PasswordResetView, SignupView

            class CustomSignupView(SignupView):
                template_name = "signup.html"

            class CustomResetView(PasswordResetView):
                template_name = "reset.html"

            class CustomEmailView(EmailView):
                template_name = "email.html"

            class CustomLoginView(LoginView):
                template_name = "login.html"
            """,
            "urls.py": """
            from django.urls import path
            from views import CustomEmailView, CustomLoginView, CustomResetView, CustomSignupView

            urlpatterns = [
                path("signup/", CustomSignupView.as_view()),
                path("reset/", CustomResetView.as_view()),
                path("email/", CustomEmailView.as_view()),
                path("login/", CustomLoginView.as_view()),
            ]
            """,
        }
    )
    got = {(e.handler, e.methods): (e.status, e.heavy) for e in report.endpoints}
    assert got == {
        ("CustomSignupView.get", ("GET",)): ("inline", False),
        ("CustomSignupView.post", ("POST",)): ("inline", True),
        ("CustomResetView.get", ("GET",)): ("inline", False),
        ("CustomResetView.post", ("POST",)): ("inline", True),
        ("CustomEmailView.get", ("GET",)): ("inline", False),
        ("CustomEmailView.post", ("POST",)): ("inline", True),
        ("CustomLoginView.get", ("GET",)): ("inline", False),
        ("CustomLoginView.post", ("POST",)): ("inline", False),
    }


def test_urls_of_an_installed_package_are_listed_not_dropped(run_audit):
    """Item 156: ``include("allauth.urls")``, ``include("health_check.urls")``,
    ``include(admin.site.urls)``: another package's views, served under the project's URLs
    (allauth's password reset mails in the request; a health check may send a Celery task
    and wait), were dropped with nothing said. Each is listed as URLs the audit does not
    read, with the package named; the project's own includes are read as before."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse

            def home(request):
                return JsonResponse({})
            """,
            "app_urls.py": """
            from django.urls import path
            from views import home

            urlpatterns = [path("", home)]
            """,
            "urls.py": """
            from django.contrib import admin
            from django.urls import include, path

            urlpatterns = [
                path("", include("app_urls")),
                path("accounts/", include("allauth.urls")),
                path("ht/", include("health_check.urls")),
                path("admin/", admin.site.urls),
            ]
            """,
        }
    )
    assert [(e.handler, e.route) for e in report.endpoints] == [("home", "/")]
    listed = sorted((u.line, u.call) for u in report.unrecognized)
    assert [line for line, _ in listed] == [6, 7]
    assert all("not read" in u.reason for u in report.unrecognized)
    assert "allauth.urls" in listed[0][1] and "health_check.urls" in listed[1][1]
