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


def test_http_sessions_of_auth_libraries_are_network_work(check):
    """Item 123: authlib's and requests-oauthlib's OAuth sessions, edx-rest-api-client's
    ``OAuthAPIClient`` (``requests.Session`` subclasses), lnurl and fastapi-sso calls."""
    check(
        {
            "app.py": """
            from flask import Flask
            from authlib.integrations.requests_client import OAuth2Session
            from edx_rest_api_client.client import OAuthAPIClient
            from requests_oauthlib import OAuth1Session
            from lnurl import handle as lnurl_handle, execute_login
            from fastapi_sso.sso.google import GoogleSSO

            app = Flask(__name__)

            class Client:
                def __init__(self):
                    self.session = OAuth2Session("id", "secret")

                def fetch_id_token(self, code):
                    return self.session.fetch_token("https://idp/token", code=code)

            @app.post("/authorize")
            def authorize():
                return Client().fetch_id_token("x")

            @app.get("/catalog")
            def catalog():
                return OAuthAPIClient("https://lms", "id", "secret").get("https://lms/api")

            @app.get("/oauth1")
            def oauth1():
                return OAuth1Session("id").get("https://example.com")

            @app.get("/lnurl")
            def lnurl():
                lnurl_handle("lnurl1dp68gurn8ghj7")
                return execute_login("cb", "k")

            @app.get("/sso")
            def sso():
                return GoogleSSO("id", "secret").verify_and_process(None)

            @app.get("/plain")
            def plain():
                return Client()
            """
        },
        {
            "authorize": ("inline", True),
            "catalog": ("inline", True),
            "oauth1": ("inline", True),
            "lnurl": ("inline", True),
            "sso": ("inline", True),
            "plain": ("inline", False),
        },
    )


def test_send_task_of_another_queue_library_names_it(run_audit):
    """Item 124: ``Producer().send_task(task)`` of karton (or a project subclass of its
    ``Producer``) is a dispatch to karton, not to Celery; ``app.send_task`` stays Celery's."""
    report = run_audit(
        {
            "app.py": """
            from celery import Celery
            from flask import Flask
            from karton.core import Producer, Task

            app = Flask(__name__)
            celery_app = Celery("proj")
            producer = Producer()

            class KartonProducer(Producer):
                pass

            @app.post("/karton")
            def karton():
                producer.send_task(Task({"type": "sample"}))
                return "ok"

            @app.post("/subclass")
            def subclass():
                KartonProducer().send_task(Task({"type": "sample"}))
                return "ok"

            @app.post("/celery")
            def celery_send():
                celery_app.send_task("proj.crunch", args=[1])
                return "ok"
            """
        }
    )
    systems = {
        e.handler: (e.status, {ev.queue_system for ev in e.evidence if ev.queue_system})
        for e in report.endpoints
    }
    assert systems == {
        "karton": ("offloaded", {"karton"}),
        "subclass": ("offloaded", {"karton"}),
        "celery_send": ("offloaded", {"celery"}),
    }


def test_a_signal_of_an_installed_package_sent_is_listed(run_audit):
    """Item 125: ``UPDATE_COURSE_SKILLS.send(...)`` with the signal from a package's
    ``signals`` module runs receivers that package connects: an unresolved call, ``likely``;
    one the project connects a receiver to is followed; Django's own signals are not listed."""
    report = run_audit(
        {
            "tasks.py": TASKS,
            "receivers.py": """
            from django.dispatch import receiver
            from allauth.account.signals import user_signed_up
            from tasks import index_task

            @receiver(user_signed_up)
            def welcome(sender, user, **kwargs):
                index_task.delay(user.pk)
            """,
            "views.py": """
            from django.core.signals import request_finished
            from django.http import JsonResponse
            from django.views import View
            from allauth.account.signals import user_signed_up
            from taxonomy.signals.signals import UPDATE_COURSE_SKILLS

            class Refresh(View):
                def post(self, request):
                    UPDATE_COURSE_SKILLS.send(self.__class__, course_uuid="x")
                    return JsonResponse({})

            class Signup(View):
                def post(self, request):
                    user_signed_up.send(sender=None, request=request, user=request.user)
                    return JsonResponse({})

            class Finish(View):
                def post(self, request):
                    request_finished.send(sender=None)
                    return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            import receivers
            from views import Finish, Refresh, Signup

            urlpatterns = [
                path("refresh/", Refresh.as_view()),
                path("signup/", Signup.as_view()),
                path("finish/", Finish.as_view()),
            ]
            """,
        }
    )
    got = {
        e.handler: (e.status, e.confidence, [u.reason for u in e.unresolved_calls])
        for e in report.endpoints
    }
    assert got == {
        "Refresh.post": (
            "inline",
            "likely",
            ["a signal of an installed package: the receivers it connects are not read"],
        ),
        "Signup.post": ("offloaded", "certain", []),
        "Finish.post": ("inline", "certain", []),
    }


def test_a_viewset_mapping_kept_in_a_module_variable(run_audit):
    """Item 126: ``facets = SearchViewSet.as_view({"get": "facets"})`` then
    ``path("search/facets", facets)``: the mapping of the call the variable holds."""
    report = run_audit(
        {
            "views.py": """
            import requests
            from rest_framework import viewsets
            from rest_framework.response import Response

            class SearchViewSet(viewsets.ViewSet):
                def list(self, request):
                    return Response([])

                def facets(self, request):
                    return Response(requests.get("https://search/_search").json())
            """,
            "urls.py": """
            from django.urls import path
            from views import SearchViewSet

            facets_action = SearchViewSet.as_view({"get": "facets"})
            listing = SearchViewSet.as_view({"get": "list", "post": "list"})

            urlpatterns = [
                path("search/facets", facets_action),
                path("search/", listing),
            ]
            """,
        }
    )
    got = {(e.handler, ",".join(e.methods), e.route, e.heavy) for e in report.endpoints}
    assert got == {
        ("SearchViewSet.facets", "GET", "/search/facets", True),
        ("SearchViewSet.list", "GET,POST", "/search/", False),
    }


def test_routes_added_through_an_object_owning_a_prefixed_blueprint(run_audit):
    """Item 127: a project class whose ``__init__`` makes ``Blueprint(url_prefix="/api")``
    and whose ``add_resource`` adds rules to it: routes added through it are under /api;
    one making no blueprint adds no prefix."""
    report = run_audit(
        {
            "app.py": """
            from flask import Blueprint, Flask
            from flask.views import MethodView

            app = Flask(__name__)

            class Service:
                def __init__(self):
                    self.blueprint = Blueprint("api", __name__, url_prefix="/api")

                def add_resource(self, resource, *urls):
                    view = resource.as_view(resource.__name__.lower())
                    for url in urls:
                        self.blueprint.add_url_rule(rule=url, view_func=view)

            class Plain:
                def __init__(self, flask_app):
                    self.app = flask_app

                def add_resource(self, resource, *urls):
                    for url in urls:
                        self.app.add_url_rule(url, view_func=resource.as_view("x"))

            class Ping(MethodView):
                def get(self):
                    return "pong"

            class Health(MethodView):
                def get(self):
                    return "ok"

            api = Service()
            api.add_resource(Ping, "/ping")
            app.register_blueprint(api.blueprint)
            plain = Plain(app)
            plain.add_resource(Health, "/health")
            """
        }
    )
    assert {(e.handler, e.route) for e in report.endpoints} == {
        ("Ping.get", "/api/ping"),
        ("Health.get", "/health"),
    }


def test_a_routed_viewset_deriving_from_another_librarys_viewset_is_listed(run_audit):
    """Item 128: the routes a library's viewset adds (django_elasticsearch_dsl_drf's
    ``DocumentViewSet``) are not known: the registration is listed as not understood, the
    project's own actions still routed; DRF's own viewsets are read as before."""
    report = run_audit(
        {
            "views.py": """
            from django_elasticsearch_dsl_drf.viewsets import DocumentViewSet
            from rest_framework import viewsets
            from rest_framework.decorators import action
            from rest_framework.response import Response

            class SearchViewSet(DocumentViewSet):
                @action(detail=False)
                def facets(self, request):
                    return Response([])

            class NoteViewSet(viewsets.ReadOnlyModelViewSet):
                pass
            """,
            "urls.py": """
            from rest_framework.routers import SimpleRouter
            from views import NoteViewSet, SearchViewSet

            router = SimpleRouter()
            router.register("search", SearchViewSet, basename="search")
            router.register("notes", NoteViewSet)
            urlpatterns = router.urls
            """,
        }
    )
    assert {(e.handler, e.route) for e in report.endpoints} == {
        ("SearchViewSet.facets", "/search/facets/"),
        ("NoteViewSet.list", "/notes/"),
        ("NoteViewSet.retrieve", "/notes/{pk}/"),
    }
    assert [(u.file, u.line, u.reason.split(",")[0]) for u in report.unrecognized] == [
        ("views.py", 6, "derives from django_elasticsearch_dsl_drf.viewsets.DocumentViewSet")
    ]


def test_an_fstring_route_naming_a_module_constant(run_audit):
    """Item 129: ``APIRouter(prefix=f"{base_prefix}/categories")`` with ``base_prefix`` a
    string the module assigns: its value; authlib's ``authorize_access_token`` is an HTTP
    call."""
    report = run_audit(
        {
            "api.py": """
            from fastapi import APIRouter, FastAPI

            base_prefix = "/organizers"
            router = APIRouter(prefix=f"{base_prefix}/categories")

            @router.get("/{item_id}")
            def get_category(item_id: int):
                return {}

            @router.get("/callback")
            async def callback(request):
                client = oauth.create_client("oidc")
                return await client.authorize_access_token(request)

            app = FastAPI()
            app.include_router(router, prefix="/api")
            """
        }
    )
    assert {(e.handler, e.route, e.heavy) for e in report.endpoints} == {
        ("get_category", "/api/organizers/categories/{item_id}", False),
        ("callback", "/api/organizers/categories/callback", True),
    }


ORG_MODELS = """
    from django.db import models

    class Organization(models.Model):
        name = models.TextField()

    class Course(models.Model):
        orgs = models.ManyToManyField(Organization)
        card = models.ImageField()
"""
ORG_RECEIVERS = """
    from celery import shared_task
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from models import Course, Organization

    @shared_task
    def sync(pk):
        return pk

    @receiver(post_save, sender=Organization)
    def org_saved(sender, instance, **kwargs):
        sync.delay(instance.pk)

    @receiver(post_save, sender=Course)
    def course_saved(sender, instance, **kwargs):
        sync.delay(instance.pk)
"""


def test_rows_of_a_many_to_many_field_and_a_file_fields_save(check):
    """Item 130: ``course.orgs.first()`` is an Organization row (its save runs its
    receivers, as do rows of ``.all()``); ``course.card.save(name, content)`` writes a file
    and saves the course; with ``save=False`` only the file."""
    check(
        {
            "models.py": ORG_MODELS,
            "receivers.py": ORG_RECEIVERS,
            "views.py": """
            from django.http import JsonResponse
            from django.views import View
            from models import Course

            def touch(course):
                org = course.orgs.first()
                org.save()

            class First(View):
                def post(self, request):
                    course = Course.objects.get(pk=1)
                    touch(course)
                    return JsonResponse({})

            class Every(View):
                def post(self, request):
                    for org in Course.objects.get(pk=1).orgs.all():
                        org.save()
                    return JsonResponse({})

            class Card(View):
                def post(self, request):
                    course = Course.objects.get(pk=1)
                    course.card.save("a.png", request.FILES["f"])
                    return JsonResponse({})

            class CardOnly(View):
                def post(self, request):
                    course = Course.objects.get(pk=1)
                    course.card.save("a.png", request.FILES["f"], save=False)
                    return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            import receivers
            from views import Card, CardOnly, Every, First

            urlpatterns = [
                path("first/", First.as_view()),
                path("every/", Every.as_view()),
                path("card/", Card.as_view()),
                path("card-only/", CardOnly.as_view()),
            ]
            """,
        },
        {
            "First.post": ("offloaded", False),
            "Every.post": ("offloaded", False),
            "Card.post": ("offloaded", True),
            "CardOnly.post": ("inline", True),
        },
    )


def test_a_value_typed_by_a_protocol_runs_a_method_of_that_shape(check):
    """Item 131: ``publisher: PublisherLike`` (a ``typing.Protocol``) stands for the
    project's classes with that method; a stub of a plain class stays a stub."""
    check(
        {
            "publisher.py": """
            from typing import Protocol
            import requests

            class PublisherLike(Protocol):
                def publish(self, event, urls: list[str]): ...

            class WebhookPublisher:
                def publish(self, event, urls):
                    for url in urls:
                        requests.post(url, json=event)

            class Listener:
                def __init__(self, publisher: PublisherLike):
                    self.publisher = publisher

                def notify(self, event, urls):
                    self.publisher.publish(event, urls)

            class Plain:
                def render_widget(self): ...

            class Renderer:
                def render_widget(self):
                    return requests.get("https://example.com")
            """,
            "api.py": """
            from fastapi import FastAPI
            from publisher import Listener, Plain, PublisherLike

            app = FastAPI()

            @app.post("/test")
            def test_notification(p: PublisherLike):
                Listener(p).notify({}, ["https://example.com"])
                return {}

            @app.get("/widget")
            def widget(plain: Plain):
                return plain.render_widget()
            """,
        },
        {"test_notification": ("inline", True), "widget": ("inline", False)},
    )


def test_a_prefix_naming_a_constant_of_another_module_or_a_setting(run_audit):
    """Item 132: ``prefix=settings.API_V1_STR`` (a class-level string read through a
    module-level instance), ``prefix=f"{API_ROOT}/x"`` with ``API_ROOT`` imported, and
    ``re_path(rf"^{ANALYTICS}/")``: their values."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/config.py": """
            from pydantic_settings import BaseSettings

            API_ROOT = "/root"
            ANALYTICS = "analytics"

            class Settings(BaseSettings):
                API_V1_STR: str = "/api/v1"

            settings = Settings()
            """,
            "app/routes.py": """
            from fastapi import APIRouter

            items = APIRouter()
            users = APIRouter()

            @items.get("/items")
            def list_items():
                return []

            @users.get("/users")
            def list_users():
                return []
            """,
            "app/main.py": """
            from fastapi import FastAPI
            from app.config import API_ROOT, settings
            from app.routes import items, users

            app = FastAPI()
            app.include_router(items, prefix=settings.API_V1_STR)
            app.include_router(users, prefix=f"{API_ROOT}/x")
            """,
            "app/views.py": """
            from django.http import JsonResponse
            from django.views import View

            class Report(View):
                def get(self, request):
                    return JsonResponse({})
            """,
            "app/urls.py": """
            from django.urls import re_path
            from app.config import ANALYTICS
            from app.views import Report

            urlpatterns = [re_path(rf"^{ANALYTICS}/reports/$", Report.as_view())]
            """,
        }
    )
    assert {(e.handler, e.route) for e in report.endpoints} == {
        ("list_items", "/api/v1/items"),
        ("list_users", "/root/x/users"),
        ("Report.get", "/analytics/reports/"),
    }


def test_a_project_thread_subclass_started_and_not_joined(check):
    """Item 133: ``EmailThread(message).start()`` on a ``threading.Thread`` subclass is
    in-process background; ``run()`` called directly, or ``start()`` then ``join()``, is
    the thread's work done in the request."""
    check(
        {
            "emails.py": """
            import smtplib
            from threading import Thread

            class EmailThread(Thread):
                def __init__(self, message):
                    Thread.__init__(self)
                    self.message = message

                def run(self):
                    smtplib.SMTP("localhost").sendmail("a", ["b"], self.message)

            def send(message, block=False):
                t = EmailThread(message)
                if block:
                    t.run()
                else:
                    t.start()

            def send_and_wait(message):
                t = EmailThread(message)
                t.start()
                t.join()
            """,
            "app.py": """
            from flask import Flask
            from emails import EmailThread, send, send_and_wait

            app = Flask(__name__)

            @app.post("/login")
            def login():
                send("hi")
                return "ok"

            @app.post("/always")
            def always():
                EmailThread("hi").start()
                return "ok"

            @app.post("/blocking")
            def blocking():
                send("hi", block=True)
                return "ok"

            @app.post("/joined")
            def joined():
                send_and_wait("hi")
                return "ok"
            """,
        },
        {
            "login": ("inprocess_background", False),
            "always": ("inprocess_background", False),
            "blocking": ("inline", True),
            "joined": ("inline", True),
        },
    )


def test_django_q_is_a_queue_system(run_audit):
    """Item 134: django-q's ``async_task`` (through a project wrapper) and
    ``AsyncTask(...).run()`` are offloaded, named ``django-q``."""
    report = run_audit(
        {
            "tasks.py": """
            from django_q.tasks import async_task

            def offload_task(func, *args, **kwargs):
                return async_task(func, *args, **kwargs)

            def rebuild(pk):
                return pk
            """,
            "views.py": """
            from django.http import JsonResponse
            from django.views import View
            from django_q.tasks import AsyncTask
            from tasks import offload_task, rebuild

            class Wrapped(View):
                def post(self, request):
                    offload_task(rebuild, 1)
                    return JsonResponse({})

            class Built(View):
                def post(self, request):
                    AsyncTask(rebuild, 1).run()
                    return JsonResponse({})

            class Plain(View):
                def post(self, request):
                    rebuild(1)
                    return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import Built, Plain, Wrapped

            urlpatterns = [
                path("wrapped/", Wrapped.as_view()),
                path("built/", Built.as_view()),
                path("plain/", Plain.as_view()),
            ]
            """,
        }
    )
    got = {
        e.handler: (e.status, e.confidence, {ev.queue_system for ev in e.evidence} - {""})
        for e in report.endpoints
    }
    assert got == {
        "Wrapped.post": ("offloaded", "certain", {"django-q"}),
        "Built.post": ("offloaded", "certain", {"django-q"}),
        "Plain.post": ("inline", "certain", set()),
    }


def test_djangos_password_reset_mails_in_the_request(check):
    """Item 135: a routed subclass of ``PasswordResetView`` (its inherited ``post``) and
    ``PasswordResetForm(...).save()`` send mail in the request."""
    check(
        {
            "views.py": """
            from django.contrib.auth.forms import PasswordResetForm
            from django.contrib.auth.views import PasswordResetView
            from django.http import JsonResponse
            from django.views import View

            class ResetView(PasswordResetView):
                template_name = "reset.html"

            class ApiReset(View):
                def post(self, request):
                    form = PasswordResetForm(request.POST)
                    if form.is_valid():
                        form.save(request=request)
                    return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import ApiReset, ResetView

            urlpatterns = [
                path("reset/", ResetView.as_view()),
                path("api/reset/", ApiReset.as_view()),
            ]
            """,
        },
        {
            "ResetView.get": ("inline", False),
            "ResetView.post": ("inline", True),
            "ApiReset.post": ("inline", True),
        },
    )


def test_self_class_libcurl_and_sockets(check):
    """Item 136: ``self.__class__.objects.create()`` makes a row of the instance's model
    (its receivers run on save); ``pycurl.Curl().perform()`` and
    ``socket.create_connection()`` are network work."""
    check(
        {
            "models.py": """
            from django.db import models

            class Plan(models.Model):
                name = models.TextField()

                def clone(self):
                    return self.__class__.objects.create(name=self.name)
            """,
            "receivers.py": """
            from celery import shared_task
            from django.db.models.signals import post_save
            from django.dispatch import receiver
            from models import Plan

            @shared_task
            def notify(pk):
                return pk

            @receiver(post_save, sender=Plan)
            def plan_saved(sender, instance, **kwargs):
                notify.delay(instance.pk)
            """,
            "views.py": """
            import socket
            import pycurl
            from django.http import JsonResponse
            from django.views import View
            from models import Plan

            class Clone(View):
                def post(self, request):
                    Plan.objects.get(pk=1).clone()
                    return JsonResponse({})

            class Curl(View):
                def post(self, request):
                    c = pycurl.Curl()
                    c.setopt(pycurl.URL, "https://example.com")
                    c.perform()
                    return JsonResponse({})

            class Sock(View):
                def post(self, request):
                    socket.create_connection(("localhost", 7583)).sendall(b"x")
                    return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            import receivers
            from views import Clone, Curl, Sock

            urlpatterns = [
                path("clone/", Clone.as_view()),
                path("curl/", Curl.as_view()),
                path("sock/", Sock.as_view()),
            ]
            """,
        },
        {
            "Clone.post": ("offloaded", False),
            "Curl.post": ("inline", True),
            "Sock.post": ("inline", True),
        },
    )


def test_a_route_decorator_applied_by_hand_at_a_modules_top(run_audit):
    """Item 137: ``app.get("/g/{slug}")(serve)`` and ``bp.route("/x", methods=["POST"])(f)``
    route the function as the decorator would; a call of something else does not."""
    report = run_audit(
        {
            "api.py": """
            import functools
            from fastapi import FastAPI
            from flask import Flask

            app = FastAPI()
            flask_app = Flask(__name__)

            def serve(slug: str):
                return {}

            def other():
                return "x"

            def helper():
                return "y"

            app.get("/g/{slug}", include_in_schema=False)(serve)
            flask_app.route("/other", methods=["POST"])(other)
            functools.lru_cache(maxsize=1)(helper)
            """
        }
    )
    assert {(e.handler, ",".join(e.methods), e.route) for e in report.endpoints} == {
        ("serve", "GET", "/g/{slug}"),
        ("other", "POST", "/other"),
    }
