"""Shapes a round-16 look at five projects found read wrong or unsaid (PATTERNS.md items
157-). Snippets written for the audit, not copied from a project."""

from __future__ import annotations

import pytest

from controlplane.migrations_audit import classify, scan

DRF_VIEW = """
from rest_framework.response import Response
from rest_framework.views import APIView


class Ping(APIView):
    def get(self, request):
        return Response({})
"""


def test_a_url_list_passed_through_a_call_on_itself_is_read(run_audit):
    """Item 157: ``urlpatterns = format_suffix_patterns(urlpatterns)`` ended the whole run
    with an AttributeError; its routes are read."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/views.py": DRF_VIEW,
            "app/urls.py": """
            from django.urls import path
            from rest_framework.urlpatterns import format_suffix_patterns

            from .views import Ping

            urlpatterns = [path("ping", Ping.as_view())]
            urlpatterns = format_suffix_patterns(urlpatterns)
            """,
            "urls.py": """
            from django.urls import include, path

            urlpatterns = [path("api/", include("app.urls"))]
            """,
        }
    )
    assert [(e.handler, e.route, e.methods) for e in report.endpoints] == [
        ("Ping.get", "/api/ping", ("GET",))
    ]
    assert report.skipped == []


@pytest.fixture
def failing_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A defect of the audit on one file: reading ``broken.py`` raises."""
    real = scan.extract

    def extract(data: bytes, relpath: str):  # type: ignore[no-untyped-def]
        if relpath == "broken.py":
            raise KeyError("a defect")
        return real(data, relpath)

    monkeypatch.setattr(scan, "extract", extract)


def test_a_defect_on_one_file_skips_that_file_not_the_run(run_audit, failing_file):
    """Item 157: the file is listed as skipped with the error; the rest is audited."""
    report = run_audit(
        {
            "app.py": """
            from flask import Flask

            app = Flask(__name__)

            @app.get("/ok")
            def ok():
                return "ok"
            """,
            "broken.py": "X = 1\n",
        }
    )
    assert [e.handler for e in report.endpoints] == ["ok"]
    assert [(s.file, s.reason) for s in report.skipped] == [
        ("broken.py", f"{scan.AUDIT_FAILED}: KeyError: 'a defect'")
    ]


def test_a_defect_on_one_endpoint_makes_it_unresolved_alone(run_audit, monkeypatch):
    """Item 157: an endpoint whose trace raises is ``unresolved`` with the error; the
    others are traced as before."""
    real = classify.Classifier._traced

    def traced(self, decl, feature):  # type: ignore[no-untyped-def]
        if decl.handler == "boom":
            raise IndexError("a defect")
        return real(self, decl, feature)

    monkeypatch.setattr(classify.Classifier, "_traced", traced)
    report = run_audit(
        {
            "app.py": """
            from flask import Flask
            from tasks import crunch

            app = Flask(__name__)

            @app.post("/boom")
            def boom():
                return "ok"

            @app.post("/fine")
            def fine():
                crunch.delay()
                return "ok"
            """,
            "tasks.py": """
            from celery import shared_task

            @shared_task
            def crunch():
                pass
            """,
        }
    )
    found = {e.handler: (e.status, e.reason) for e in report.endpoints}
    assert found == {
        "boom": ("unresolved", f"{classify.TRACE_FAILED} (IndexError: a defect)"),
        "fine": ("offloaded", ""),
    }


def test_a_parameter_annotated_with_a_type_variable_is_what_the_caller_passes(check):
    """Item 158: ``action: A`` with ``A = TypeVar("A")`` is the callable each caller
    passes, followed as for an unannotated parameter; a class annotation still types its
    parameter (``mailer: Mailer`` given an object of unknown type)."""
    check(
        {
            "hooks.py": """
            from typing import Generic, TypeVar

            A = TypeVar("A")


            class FilterHook(Generic[A]):
                def __call__(self, action: A, *args, **kwargs):
                    return action(*args, **kwargs)


            class Mailer:
                def send(self, body):
                    from tasks import sync

                    sync.delay([body])


            def deliver(mailer: Mailer, body):
                return mailer.send(body)


            save_hook = FilterHook()
            """,
            "app.py": """
            from flask import Flask, g

            from hooks import deliver, save_hook
            from tasks import sync

            web = Flask(__name__)


            class State:
                def save(self):
                    return save_hook(self.save_action, self)

                def save_action(self, state):
                    sync.delay([1])


            @web.post("/start")
            def start():
                State().save()
                return "ok"


            @web.post("/mail")
            def mail():
                deliver(g.mailer, "hi")
                return "ok"
            """,
            "tasks.py": """
            from celery import shared_task


            @shared_task
            def sync(ids):
                pass
            """,
        },
        {"start": ("offloaded", False), "mail": ("offloaded", False)},
    )


def test_a_task_handed_to_an_enqueue_helper_is_not_run_in_the_request(check):
    """Item 159: ``Job.enqueue(full_sync)`` whose body is ``func.delay(..., **kw)``: the
    task is offloaded, and its own HTTP call is the worker's, not the request's; a helper
    that calls what it is given still runs it in the request."""
    check(
        {
            "jobs.py": """
            import requests
            from django_rq import job


            @job("default")
            def full_sync():
                requests.get("https://example.com/everything")
            """,
            "models.py": """
            from django.db import models


            class Job(models.Model):
                @classmethod
                def enqueue(cls, func, *args, **kw):
                    job = cls.objects.create()
                    func.delay(*args, job_id=str(job.pk), **kw)

                @classmethod
                def run_now(cls, func, *args, **kw):
                    cls.objects.create()
                    return func(*args, **kw)
            """,
            "views.py": """
            from django.http import HttpResponse

            from jobs import full_sync
            from models import Job


            def refresh(request):
                Job.enqueue(full_sync)
                return HttpResponse(status=202)


            def refresh_now(request):
                Job.run_now(full_sync)
                return HttpResponse()
            """,
            "urls.py": """
            from django.urls import path

            from views import refresh, refresh_now

            urlpatterns = [path("refresh/", refresh), path("now/", refresh_now)]
            """,
        },
        {"refresh": ("offloaded", False), "refresh_now": ("inline", True)},
    )


def test_a_hook_the_framework_calls_back_is_the_routed_classs_own(check):
    """Item 160: DRF's ``list`` (inherited) calls the mixin's ``paginate_queryset``, which
    calls ``self.prepare(page)``: for a routed class inheriting the no-op, the no-op, not a
    sibling's heavy override."""
    check(
        {
            "views.py": """
            import requests
            from rest_framework import generics, mixins


            class ListMixin(mixins.ListModelMixin):
                def get(self, request, *args, **kwargs):
                    return self.list(request, *args, **kwargs)

                def paginate_queryset(self, queryset):
                    page = super().paginate_queryset(queryset)
                    self.prepare(page)
                    return page

                def prepare(self, page):
                    pass


            class Plain(ListMixin, generics.GenericAPIView):
                pass


            class Expanded(ListMixin, generics.GenericAPIView):
                def prepare(self, page):
                    requests.get("https://example.com/expand")
            """,
            "urls.py": """
            from django.urls import path

            from views import Expanded, Plain

            urlpatterns = [path("plain/", Plain.as_view()), path("expanded/", Expanded.as_view())]
            """,
        },
        {"Plain.get": ("inline", False), "Expanded.get": ("inline", True)},
    )


def test_a_library_view_kept_in_a_variable_is_routed_like_one_written_inline(run_audit):
    """Item 161: ``schema_view = SpectacularAPIView.as_view()`` routed by name is the
    library's view at its route, as when written in the entry; a class picked by a
    registry call stays listed as not understood."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse
            from django.views import View


            class Registry:
                def get(self, base):
                    return base


            registry = Registry()


            class Threads(View):
                def get(self, request):
                    return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from drf_spectacular.views import SpectacularAPIView

            from views import Threads, registry

            schema_view = SpectacularAPIView.as_view()
            threads = registry.get(Threads).as_view()

            urlpatterns = [
                path("schema/", schema_view),
                path("schema-inline/", SpectacularAPIView.as_view()),
                path("threads/", threads),
            ]
            """,
        }
    )
    assert sorted((e.route, e.handler, e.status) for e in report.endpoints) == [
        ("/schema-inline/", "SpectacularAPIView", "inline"),
        ("/schema/", "SpectacularAPIView", "inline"),
    ]
    assert [(u.line, u.reason) for u in report.unrecognized] == [(12, "view not found")]


def test_a_library_view_kept_in_another_modules_variable_is_reported_where_routed(run_audit):
    """Item 161: the variable imported from another module: the endpoint is at the URL
    entry's file and line, not at that line of the module holding the variable."""
    report = run_audit(
        {
            "schema.py": """
            from drf_spectacular.views import SpectacularAPIView

            schema_view = SpectacularAPIView.as_view()
            """,
            "urls.py": """
            from django.urls import path

            from schema import schema_view

            urlpatterns = [
                path("schema/", schema_view),
            ]
            """,
        }
    )
    assert [(e.file, e.line, e.handler, e.route) for e in report.endpoints] == [
        ("urls.py", 6, "SpectacularAPIView", "/schema/")
    ]


def test_a_task_loaded_by_a_literal_dotted_path_is_that_task(check):
    """Item 162: ``import_string("core.jobs.synchronise")`` passed to an enqueue helper
    is the project's task: offloaded, where it was unresolved; a path from settings stays
    unknown."""
    check(
        {
            "core/__init__.py": "",
            "core/jobs.py": """
            from django_rq import job


            @job("default")
            def synchronise(source):
                pass
            """,
            "core/models.py": """
            from django.conf import settings
            from django.db import models
            from django.utils.module_loading import import_string


            class Job(models.Model):
                @classmethod
                def enqueue(cls, func, *args, **kw):
                    job = cls.objects.create()
                    func.delay(*args, job_id=str(job.pk), **kw)


            class Source(models.Model):
                def sync(self):
                    return Job.enqueue(import_string("core.jobs.synchronise"), self)

                def sync_configured(self):
                    return Job.enqueue(import_string(settings.SYNC_JOB), self)
            """,
            "core/views.py": """
            from django.http import HttpResponse

            from core.models import Source


            def sync(request):
                Source.objects.get(pk=1).sync()
                return HttpResponse(status=202)


            def sync_configured(request):
                Source.objects.get(pk=1).sync_configured()
                return HttpResponse(status=202)
            """,
            "urls.py": """
            from django.urls import path

            from core.views import sync, sync_configured

            urlpatterns = [path("sync/", sync), path("sync2/", sync_configured)]
            """,
        },
        {"sync": ("offloaded", False), "sync_configured": ("unresolved", False)},
    )


def test_a_presigned_url_is_local_work_and_a_paginated_listing_is_not(check):
    """Item 163: ``generate_presigned_url`` signs locally (not heavy); the pages a
    paginator fetches are requests (heavy)."""
    check(
        {
            "app.py": """
            import boto3
            from flask import Flask

            app = Flask(__name__)
            s3 = boto3.client("s3")


            @app.get("/signed")
            def signed():
                return s3.generate_presigned_url("get_object", Params={"Key": "k"})


            @app.get("/listing")
            def listing():
                pages = s3.get_paginator("list_objects_v2").paginate(Bucket="b")
                return {"n": sum(1 for _ in pages)}
            """
        },
        {"signed": ("inline", False), "listing": ("inline", True)},
    )


def test_a_url_list_filled_in_a_loop_is_listed_not_dropped(run_audit):
    """Item 164: additions a module-level loop makes to a URL list are listed as
    registrations not read; the list's written ``path()``s still count."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse


            def home(request):
                return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import include, re_path

            from kinds import KINDS
            from views import home

            kind_urls = []
            for kind in KINDS:
                kind_urls.append(re_path("^%s/" % kind.slug, include(kind.get_urls())))

            urlpatterns = [
                re_path(r"^$", home),
                re_path(r"^kinds/", include(kind_urls)),
            ]
            """,
            "kinds.py": "KINDS = []\n",
        }
    )
    assert [(e.handler, e.route) for e in report.endpoints] == [("home", "/")]
    assert [(u.file, u.line, u.reason) for u in report.unrecognized] == [
        ("urls.py", 8, "added to a URL list in a loop: the routes it adds are not read")
    ]


def test_a_url_prefix_held_in_an_f_string_variable_is_kept(run_audit):
    """Item 165: ``admin_prefix = f"{settings.ADMIN_PATH}/"`` then ``path(admin_prefix,
    include(...))`` keeps the prefix, as when written in place."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse


            def logout(request):
                return JsonResponse({})
            """,
            "adminurls.py": """
            from django.urls import path

            from views import logout

            urlpatterns = [path("logout/", logout)]
            """,
            "urls.py": """
            from django.conf import settings
            from django.urls import include, path

            urlpatterns = [path("", include("adminurls"))]
            if settings.ADMIN_PATH:
                admin_prefix = f"{settings.ADMIN_PATH}/"
                urlpatterns += [path(admin_prefix, include("adminurls"))]
            """,
        }
    )
    assert sorted(e.route for e in report.endpoints) == [
        "/logout/",
        "/{settings.ADMIN_PATH}/logout/",
    ]


def test_a_method_picked_by_a_percent_formatted_name_is_each_that_fits(check):
    """Item 166: ``getattr(self, "action_%s" % name)(request)`` may run any ``action_*``
    method of the class: one enqueues, so the endpoint is offloaded (likely)."""
    report = check(
        {
            "app.py": """
            from celery import shared_task
            from django.http import HttpResponse
            from django.views import View


            @shared_task
            def purge(ids):
                pass


            class MassView(View):
                def post(self, request):
                    getattr(self, "action_%s" % request.POST["action"])(request)
                    return HttpResponse()

                def action_delete(self, request):
                    purge.delay([9])

                def action_noop(self, request):
                    pass
            """,
            "urls.py": """
            from django.urls import path

            from app import MassView

            urlpatterns = [path("mass/", MassView.as_view())]
            """,
        },
        {"MassView.post": ("offloaded", False)},
    )
    assert [e.confidence for e in report.endpoints] == ["likely"]


REGISTRY_FILES = {
    "utils/__init__.py": "",
    "utils/registry.py": """
    import collections

    registry = {"views": collections.defaultdict(dict)}
    """,
    "utils/views.py": """
    from .registry import registry


    def register_model_view(model, name="", path=None, detail=True, kwargs=None):
        def _wrapper(cls):
            app_label = model._meta.app_label
            model_name = model._meta.model_name
            registry["views"][app_label].setdefault(model_name, []).append(
                {
                    "name": name,
                    "view": cls,
                    "path": path if path is not None else name,
                    "detail": detail,
                    "kwargs": kwargs or {},
                }
            )
            return cls

        return _wrapper
    """,
    "utils/urls.py": """
    from django.urls import path

    from .registry import registry


    def get_model_urls(app_label, model_name, detail=True):
        paths = []
        for config in registry["views"][app_label].get(model_name, []):
            if config["detail"] != detail:
                continue
            route = f"{config['path']}/" if config["path"] else ""
            paths.append(path(route, config["view"].as_view(), kwargs=config["kwargs"]))
        return paths
    """,
    "devices/__init__.py": "",
    "devices/models.py": """
    from django.db import models


    class Router(models.Model):
        name = models.CharField(max_length=10)
    """,
    "devices/views.py": """
    from django.http import HttpResponse
    from django.views import View

    from utils.views import register_model_view

    from .models import Router


    @register_model_view(Router, name="delete")
    class RouterDelete(View):
        def post(self, request, pk):
            return HttpResponse()


    @register_model_view(model=Router, name="add", detail=False)
    @register_model_view(model=Router, name="edit")
    class RouterEdit(View):
        def post(self, request, pk=None):
            return HttpResponse()


    @register_model_view(Router, "configuration", path="config")
    class RouterConfiguration(View):
        def get(self, request, pk):
            return HttpResponse()
    """,
    "devices/urls.py": """
    from django.urls import include, path

    from utils.urls import get_model_urls

    urlpatterns = [
        path("routers/", include(get_model_urls("devices", "router", detail=False))),
        path("routers/<int:pk>/", include(get_model_urls("devices", "router"))),
    ]
    """,
    "urls.py": """
    from django.urls import include, path

    urlpatterns = [path("devices/", include("devices.urls"))]
    """,
}


def test_a_registering_decorator_given_keywords_binds_them_to_its_parameters(run_audit):
    """Item 167: ``model=Router`` names the model, ``name="delete"`` is the view's own
    path when ``path`` is not given; stacked add and edit registrations keep both routes."""
    report = run_audit(REGISTRY_FILES)
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("RouterConfiguration.get", "/devices/routers/<int:pk>/config/"),
        ("RouterDelete.post", "/devices/routers/<int:pk>/delete/"),
        ("RouterEdit.post", "/devices/routers/<int:pk>/edit/"),
        ("RouterEdit.post", "/devices/routers/add/"),
    ]


def test_receivers_connected_by_a_module_level_helper_or_wrapped_fire(check):
    """Item 168: a helper connecting its ``sender`` parameter, called at module level with
    a model, and a receiver wrapped by a decorator factory, both fire on that model's
    save; a model nothing connects stays light."""
    check(
        {
            "app/__init__.py": "",
            "app/models.py": """
            import requests
            from django.db import models
            from django.db.models import signals


            class Phase(models.Model):
                annotation = models.FileField()


            class Stage(models.Model):
                name = models.CharField(max_length=10)


            class Note(models.Model):
                text = models.TextField()


            def restart(sender, instance, **kwargs):
                requests.post("https://example.com/restart")


            def field_name(name):
                def decorate(callback):
                    def wrapper(sender, instance, **kwargs):
                        callback(sender, instance, field_name=name, **kwargs)

                    return wrapper

                return decorate


            def post_save_connect(name, sender):
                signals.post_save.connect(restart, sender=sender, weak=False)


            post_save_connect("annotation", Phase)
            signals.post_save.connect(field_name("name")(restart), sender=Stage, weak=False)
            """,
            "app/views.py": """
            from django.http import HttpResponse

            from app.models import Note, Phase, Stage


            def phase(request):
                Phase.objects.get(pk=1).save()
                return HttpResponse()


            def stage(request):
                Stage.objects.get(pk=1).save()
                return HttpResponse()


            def note(request):
                Note.objects.get(pk=1).save()
                return HttpResponse()
            """,
            "urls.py": """
            from django.urls import path

            from app.views import note, phase, stage

            urlpatterns = [path("phase/", phase), path("stage/", stage), path("note/", note)]
            """,
        },
        {"phase": ("inline", True), "stage": ("inline", True), "note": ("inline", False)},
    )


def test_api_views_a_routed_view_calls_are_not_listed_again(run_audit):
    """Item 169: ``login`` and ``session_user`` (``@api_view``) served through the routed
    ``gateway`` are not endpoints of their own; an ``@api_view`` nothing routed calls is
    still listed, without a route."""
    report = run_audit(
        {
            "auth.py": """
            from rest_framework.decorators import api_view
            from rest_framework.response import Response


            def gateway(request):
                if request.method == "POST":
                    return login(request)
                return session_user(request)


            @api_view(["POST"])
            def login(request):
                return Response({})


            @api_view()
            def session_user(request):
                return Response({})


            @api_view(["GET"])
            def orphan(request):
                return Response({})
            """,
            "urls.py": """
            from django.urls import path

            from auth import gateway

            urlpatterns = [path("auth/", gateway)]
            """,
        }
    )
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("gateway", "/auth/"),
        ("orphan", ""),
    ]


@pytest.mark.parametrize(
    ("imports", "body", "kind"),
    [
        (
            "from aliyunsdkcore.client import AcsClient",
            "    AcsClient('ak', 'secret', 'cn').do_action_with_exception(request)",
            "http",
        ),
        (
            "from tencentcloud.sms.v20210111 import sms_client",
            "    sms_client.SmsClient(cred, 'ap-guangzhou').SendSms(request)",
            "http",
        ),
        ("import hvac", "    hvac.Client(url='https://vault').secrets.kv.read_secret('k')", "http"),
        (
            "import napalm",
            "    device = napalm.get_network_driver('ios')('h', 'u', 'p')\n    device.open()",
            "remote",
        ),
        ("import paramiko", "    c = paramiko.SSHClient()\n    c.connect('host')", "remote"),
        ("import ldap3", "    ldap3.Connection('ldap://h').bind()", "remote"),
    ],
)
def test_cloud_sdk_calls_and_sessions_with_other_hosts_are_heavy(check, imports, body, kind):
    """Item 170: each is a request to another host, made in the request."""
    report = check(
        {
            "app.py": f"""
from flask import Flask
{imports}

app = Flask(__name__)


@app.post("/x")
def handler(request=None, cred=None):
{body}
    return "ok"
"""
        },
        {"handler": ("inline", True)},
    )
    assert {e.kind for e in report.endpoints[0].evidence} == {kind}


def test_making_an_sdk_client_or_a_driver_class_is_not_heavy(check):
    """Item 170, negative: building a client or looking a driver up sends nothing."""
    check(
        {
            "app.py": """
            import napalm
            import paramiko
            from flask import Flask

            app = Flask(__name__)


            @app.post("/x")
            def handler():
                napalm.get_network_driver("ios")
                paramiko.SSHClient()
                return "ok"
            """
        },
        {"handler": ("inline", False)},
    )


def test_django_q_schedule_is_an_enqueue(check):
    """Item 171: ``django_q.tasks.schedule(...)`` queues a run for the cluster, like
    ``async_task``; a project function named ``schedule`` is still followed."""
    check(
        {
            "views.py": """
            from django.http import JsonResponse
            from django_q.tasks import async_task, schedule

            from planner import Planner


            def timed(request):
                schedule("app.jobs.execute", 1, schedule_type="O", repeats=1)
                return JsonResponse({})


            def now(request):
                async_task("app.jobs.execute", 1)
                return JsonResponse({})


            def planned(request):
                Planner().schedule(1)
                return JsonResponse({})
            """,
            "planner.py": """
            class Planner:
                def schedule(self, pk):
                    return pk
            """,
            "urls.py": """
            from django.urls import path

            from views import now, planned, timed

            urlpatterns = [path("t/", timed), path("n/", now), path("p/", planned)]
            """,
        },
        {"timed": ("offloaded", False), "now": ("offloaded", False), "planned": ("inline", False)},
    )


def test_flask_openapi3_blueprints_keep_their_prefix(run_audit):
    """Item 172: ``APIBlueprint(url_prefix="/api")`` registered with ``register_api``,
    in a module that does not import ``flask``."""
    report = run_audit(
        {
            "web/api.py": """
            from flask_openapi3 import APIBlueprint

            api = APIBlueprint("api", __name__, url_prefix="/api")


            @api.post("/upload")
            def upload():
                return {}
            """,
            "web/app.py": """
            from flask_openapi3 import OpenAPI

            from web.api import api

            app = OpenAPI(__name__)
            app.register_api(api)


            @app.get("/")
            def index():
                return "ok"
            """,
        }
    )
    assert sorted((e.handler, e.route, e.methods) for e in report.endpoints) == [
        ("index", "/", ("GET",)),
        ("upload", "/api/upload", ("POST",)),
    ]


def test_a_url_list_imported_from_a_package_is_listed(run_audit):
    """Item 173: an included list imported from an installed package is listed as not
    read; an admin site's URLs are not."""
    report = run_audit(
        {
            "views.py": """
            from django.http import JsonResponse


            def home(request):
                return JsonResponse({})
            """,
            "urls.py": """
            from django.contrib import admin
            from django.urls import include, path
            from oauth2_provider.urls import base_urlpatterns as oauth2_urlpatterns

            from views import home

            urlpatterns = [
                path("", home),
                path("oauth2/", include((oauth2_urlpatterns, "oauth2_provider"))),
                path("admin/", include(admin.site.urls)),
            ]
            """,
        }
    )
    assert [e.handler for e in report.endpoints] == ["home"]
    assert [(u.line, u.reason) for u in report.unrecognized] == [
        (
            9,
            "URLs of oauth2_provider.urls.base_urlpatterns, from a module outside the "
            "project: its views are not read",
        )
    ]


def test_an_edx_ace_message_is_email_work(check):
    """Item 173: ``ace.send(msg)`` delivers the message in the request."""
    check(
        {
            "app.py": """
            from edx_ace import ace
            from flask import Flask

            app = Flask(__name__)


            @app.post("/notify")
            def notify():
                ace.send(build_message())
                return "ok"


            def build_message():
                return {}
            """
        },
        {"notify": ("inline", True)},
    )


def test_a_setting_guard_leaving_through_with_and_try_is_a_guard(run_audit):
    """Item 174: the branch returns from inside ``with``/``try`` (its ``except`` aborts):
    the dispatch after it happens only when the setting is on, so ``likely`` with the
    guard as evidence."""
    report = run_audit(
        {
            "tasks.py": """
            from celery import shared_task
            from flask import abort, current_app


            @shared_task
            def reindex(tree):
                pass


            def run_task(task, **kwargs):
                if not current_app.config["CELERY_CONFIG"]:
                    with current_app.app_context():
                        try:
                            return task(**kwargs)
                        except Exception as exc:
                            abort(500, str(exc))
                return task.apply_async(kwargs=kwargs)
            """,
            "app.py": """
            from flask import Flask

            from tasks import reindex, run_task

            app = Flask(__name__)


            @app.post("/reindex")
            def do_reindex():
                run_task(reindex, tree="t")
                return "ok"
            """,
        }
    )
    (endpoint,) = report.endpoints
    assert (endpoint.status, endpoint.confidence) == ("offloaded", "likely")
    assert [(e.kind, e.line) for e in endpoint.evidence] == [
        ("dispatch", 17),
        ("setting_guard", 11),
    ]


def test_a_pydantic_ai_agent_run_is_llm_work(check):
    """Item 175: ``agent.run_sync(prompt)`` is model requests, not a runner of a function;
    ``anyio.to_thread.run_sync(fn)`` still runs ``fn``."""
    check(
        {
            "app.py": """
            import anyio
            from flask import Flask
            from pydantic_ai import Agent

            app = Flask(__name__)
            agent = Agent("openai:gpt-4o")


            def tidy():
                return 1


            @app.post("/chat")
            def chat():
                return agent.run_sync("hello").output


            @app.post("/tidy")
            async def tidy_view():
                return await anyio.to_thread.run_sync(tidy)
            """
        },
        {"chat": ("inline", True), "tidy_view": ("inline", False)},
    )


def test_a_package_blueprint_or_router_mounted_is_listed(run_audit):
    """Item 176: RQ Dashboard's blueprint and a fastapi-users router are served by the app
    and listed as not read; the project's own blueprints (one made in the call) are not."""
    report = run_audit(
        {
            "app.py": """
            import rq_dashboard
            from flask import Blueprint, Flask

            app = Flask(__name__)
            own = Blueprint("own", __name__)


            @own.get("/ping")
            def ping():
                return "ok"


            app.register_blueprint(rq_dashboard.blueprint, url_prefix="/rq")
            app.register_blueprint(own, url_prefix="/own")
            app.register_blueprint(Blueprint("empty", __name__))
            """,
            "api.py": """
            from fastapi import FastAPI
            from fastapi_users import FastAPIUsers

            users = FastAPIUsers(None, [])
            api = FastAPI()
            api.include_router(users.get_auth_router(None), prefix="/auth")
            """,
        }
    )
    assert [(e.handler, e.route) for e in report.endpoints] == [("ping", "/own/ping")]
    assert sorted((u.file, u.line, u.reason) for u in report.unrecognized) == [
        ("api.py", 6, "a router of a package outside the project: its routes are not read"),
        ("app.py", 13, "a blueprint of a package outside the project: its routes are not read"),
    ]
