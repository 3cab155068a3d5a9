"""Framework idioms a round-13 spot check found read wrong (PATTERNS.md items 102-106).
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def reindex(pk):
        return pk
"""
NOTE_MODELS = """
    from django.db import models

    class Note(models.Model):
        text = models.TextField()
"""
NOTE_RECEIVERS = """
    from celery import shared_task
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from models import Note

    @shared_task
    def index_note(pk):
        return pk

    @receiver(post_save, sender=Note)
    def on_saved(sender, instance, **kwargs):
        index_note.delay(instance.pk)
"""
NOTE_SERIALIZERS = """
    from rest_framework import serializers
    from models import Note

    class NoteSerializer(serializers.ModelSerializer):
        class Meta:
            model = Note
            fields = ["id", "text"]
"""


def test_a_framework_mixin_method_called_by_class_name_with_self_runs_its_body(check):
    """Item 102: ``mixins.UpdateModelMixin.update(self, ...)`` in a project mixin that does
    not subclass it runs DRF's update for the viewset ``self`` is: its serializer saves,
    the model's receivers run. A call on another object than ``self`` is not the view's."""
    check(
        {
            "models.py": NOTE_MODELS,
            "receivers.py": NOTE_RECEIVERS,
            "serializers.py": NOTE_SERIALIZERS,
            "mixins.py": """
            from rest_framework import mixins

            class PatchOnlyMixin:
                def _update(self, request, *args, **kwargs):
                    return mixins.UpdateModelMixin.update(self, request, *args, **kwargs)

                def perform_update(self, serializer):
                    mixins.UpdateModelMixin.perform_update(self, serializer=serializer)

                def partial_update(self, request, *args, **kwargs):
                    return mixins.UpdateModelMixin.partial_update(self, request, *args, **kwargs)

            class DirectPatchMixin:
                def partial_update(self, request, *args, **kwargs):
                    kwargs["partial"] = True
                    return mixins.UpdateModelMixin.update(self, request, *args, **kwargs)

            class ElsewhereMixin:
                def partial_update(self, request, *args, **kwargs):
                    other = self.get_other_view()
                    return mixins.UpdateModelMixin.update(other, request, *args, **kwargs)
            """,
            "views.py": """
            from rest_framework import viewsets
            from mixins import DirectPatchMixin, ElsewhereMixin, PatchOnlyMixin
            from models import Note
            from serializers import NoteSerializer

            class NoteViewSet(viewsets.GenericViewSet, PatchOnlyMixin):
                queryset = Note.objects.all()
                serializer_class = NoteSerializer

            class DirectViewSet(viewsets.GenericViewSet, DirectPatchMixin):
                queryset = Note.objects.all()
                serializer_class = NoteSerializer

            class ElsewhereViewSet(viewsets.GenericViewSet, ElsewhereMixin):
                queryset = Note.objects.all()
                serializer_class = NoteSerializer
            """,
            "urls.py": """
            from rest_framework.routers import DefaultRouter
            from views import DirectViewSet, ElsewhereViewSet, NoteViewSet

            router = DefaultRouter()
            router.register("notes", NoteViewSet)
            router.register("direct", DirectViewSet)
            router.register("elsewhere", ElsewhereViewSet)
            urlpatterns = router.urls
            """,
        },
        {
            "NoteViewSet.partial_update": ("offloaded", False),
            "DirectViewSet.partial_update": ("offloaded", False),
            "ElsewhereViewSet.partial_update": ("inline", False),
        },
    )


def _routes(report) -> set[tuple[str, str, str]]:
    return {(e.handler, ",".join(e.methods), e.route) for e in report.endpoints}


def test_drf_routes_as_the_router_writes_them(run_audit):
    """Item 106: ``trailing_slash=False`` leaves the slash off every route of that router;
    an ``@action`` ``url_path`` written as a regex loses its anchors and optional slash;
    ``re_path`` keeps ``\\d``/``\\w`` and drops only the escapes of plain characters."""
    report = run_audit(
        {
            "views.py": """
            from django.http import HttpResponse
            from rest_framework import viewsets
            from rest_framework.decorators import action

            class TaskViewSet(viewsets.ViewSet):
                def list(self, request):
                    return []

                def retrieve(self, request, pk=None):
                    return {}

                @action(detail=True, methods=["GET"], url_path=r"data/?$")
                def data(self, request, pk=None):
                    return {}

            class JobViewSet(viewsets.ViewSet):
                def list(self, request):
                    return []

            def confirm(request, key):
                return HttpResponse(key)

            def robots(request):
                return HttpResponse("")
            """,
            "urls.py": r"""
            from django.urls import include, path, re_path
            from rest_framework.routers import DefaultRouter, SimpleRouter
            from views import JobViewSet, TaskViewSet, confirm, robots

            bare = DefaultRouter(trailing_slash=False)
            bare.register("tasks", TaskViewSet, basename="task")
            slashed = SimpleRouter()
            slashed.register("jobs", JobViewSet, basename="job")

            urlpatterns = [
                path("api/", include(bare.urls)),
                path("api/", include(slashed.urls)),
                re_path(r"^confirm/(?P<key>[-:\w]+)/(?P<n>\d+)/$", confirm),
                re_path(r"^robots\.txt$", robots),
            ]
            """,
        }
    )
    assert _routes(report) == {
        ("TaskViewSet.list", "GET", "/api/tasks"),
        ("TaskViewSet.retrieve", "GET", "/api/tasks/{pk}"),
        ("TaskViewSet.data", "GET", "/api/tasks/{pk}/data"),
        ("JobViewSet.list", "GET", "/api/jobs/"),
        ("confirm", "ANY", r"/confirm/(?P<key>[-:\w]+)/(?P<n>\d+)/"),
        ("robots", "ANY", "/robots.txt"),
    }


def test_drf_nested_routers_route_under_the_parent_lookup(run_audit):
    """Item 106: drf-nested-routers' ``NestedSimpleRouter(router, "projects",
    lookup="project")`` routes its viewsets under ``projects/{project_pk}/``, the parent
    viewset's lookup field prefixed; a router nested in a nested one under both."""
    report = run_audit(
        {
            "views.py": """
            from rest_framework import viewsets

            class ProjectViewSet(viewsets.ViewSet):
                def list(self, request):
                    return []

            class TaskViewSet(viewsets.ViewSet):
                lookup_field = "uid"

                def list(self, request, project_pk=None):
                    return []

            class NoteViewSet(viewsets.ViewSet):
                def retrieve(self, request, pk=None, project_pk=None, task_uid=None):
                    return {}
            """,
            "urls.py": """
            from django.urls import include, path
            from rest_framework_nested import routers
            from views import NoteViewSet, ProjectViewSet, TaskViewSet

            router = routers.DefaultRouter()
            router.register("projects", ProjectViewSet, basename="projects")
            tasks = routers.NestedSimpleRouter(router, "projects", lookup="project")
            tasks.register("tasks", TaskViewSet, basename="project-tasks")
            notes = routers.NestedSimpleRouter(tasks, "tasks", lookup="task")
            notes.register("notes", NoteViewSet, basename="task-notes")

            urlpatterns = [
                path("api/", include(router.urls)),
                path("api/", include(tasks.urls)),
                path("api/", include(notes.urls)),
            ]
            """,
        }
    )
    assert _routes(report) == {
        ("ProjectViewSet.list", "GET", "/api/projects/"),
        ("TaskViewSet.list", "GET", "/api/projects/{project_pk}/tasks/"),
        ("NoteViewSet.retrieve", "GET", "/api/projects/{project_pk}/tasks/{task_uid}/notes/{pk}/"),
    }


def test_mail_sent_through_django_allauth_is_heavy(check):
    """Item 105: allauth's adapter and helpers render and send mail in the request; its
    adapter's other methods do not."""
    check(
        {
            "views.py": """
            from allauth.account.adapter import get_adapter
            from allauth.account.utils import send_email_confirmation
            from django.http import JsonResponse

            def invite(request):
                get_adapter(request).send_mail("invitation", "x@example.com", {"key": "k"})
                return JsonResponse({})

            def confirm(request):
                send_email_confirmation(request, request.user)
                return JsonResponse({})

            def login_url(request):
                return JsonResponse({"url": get_adapter(request).get_login_redirect_url(request)})
            """,
            "urls.py": """
            from django.urls import path
            from views import confirm, invite, login_url

            urlpatterns = [
                path("invite", invite),
                path("confirm", confirm),
                path("login-url", login_url),
            ]
            """,
        },
        {
            "invite": ("inline", True),
            "confirm": ("inline", True),
            "login_url": ("inline", False),
        },
    )


def test_drf_action_applied_by_a_project_decorator_factory(run_audit):
    """Item 103: a factory whose decorator applies ``action(...)`` to the method, or one
    that returns ``action(**params)``, makes the method an extra route of the viewset; its
    arguments are not read, so the route is a guess and says so (``detail`` and the like,
    written where the factory is used, are taken as the factory's); a plain project
    decorator adds no route."""
    report = run_audit(
        {
            "tasks.py": TASKS,
            "view_utils.py": """
            from rest_framework.decorators import action

            def chunk_action(*, detail, suffix_base):
                def decorator(f):
                    f = action(detail=detail, methods=["HEAD", "PATCH"],
                               url_path=f"{suffix_base}/(?P<file_id>[0-9a-f-]+)")(f)
                    return f
                return decorator

            def list_action(serializer_class, **kwargs):
                params = dict(detail=True, methods=["GET"], serializer_class=serializer_class)
                params.update(kwargs)
                return action(**params)

            def plain_action(url_path):
                return action(detail=True, methods=["POST"], url_path=url_path)

            def logged(f):
                return f
            """,
            "views.py": """
            from rest_framework import viewsets
            from rest_framework.decorators import action
            from tasks import reindex
            from view_utils import chunk_action, list_action, logged, plain_action

            class UploadViewSet(viewsets.ViewSet):
                @action(detail=True, methods=["POST"])
                def data(self, request, pk=None):
                    return {}

                @chunk_action(detail=True, suffix_base="data")
                def append_chunk(self, request, pk=None, file_id=None):
                    reindex.delay(file_id)
                    return {}

                @list_action(serializer_class=None)
                def parts(self, request, pk=None):
                    return []

                @plain_action("rebuild")
                def rebuild(self, request, pk=None):
                    reindex.delay(pk)
                    return {}

                @logged
                def helper(self, request):
                    return {}
            """,
            "urls.py": """
            from rest_framework.routers import DefaultRouter
            from views import UploadViewSet

            router = DefaultRouter()
            router.register("uploads", UploadViewSet, basename="upload")
            urlpatterns = router.urls
            """,
        }
    )
    found = {
        e.handler: (e.status, ",".join(e.methods), e.route, e.route_note) for e in report.endpoints
    }
    assert set(found) == {
        "UploadViewSet.data",
        "UploadViewSet.append_chunk",
        "UploadViewSet.parts",
        "UploadViewSet.rebuild",
    }
    assert found["UploadViewSet.data"] == ("inline", "POST", "/uploads/{pk}/data/", "")
    status, _, route, note = found["UploadViewSet.append_chunk"]
    # detail=True where the factory is used: a detail route, the rest a guess, said so
    assert status == "offloaded" and route.startswith("/uploads/{pk}/")
    assert "chunk_action" in note and "guess" in note
    status, _, _, note = found["UploadViewSet.rebuild"]
    assert status == "offloaded" and "plain_action" in note
    status, _, _, note = found["UploadViewSet.parts"]
    assert status == "inline" and "list_action" in note


def test_a_function_picked_from_a_module_level_table_and_called(check):
    """Item 108: ``VIEWS[key](...)`` and ``VIEWS.get(key)(...)`` on a module-level dict of
    functions run one of its entries, as a local table's do; a table of plain functions
    stays inline."""
    check(
        {
            "tasks.py": TASKS,
            "app.py": """
            from flask import Flask
            from tasks import reindex

            app = Flask(__name__)

            def rebuild(pk):
                reindex.delay(pk)
                return "queued"

            def show(pk):
                return str(pk)

            VIEWS = {"rebuild": rebuild, "show": show}
            PLAIN = {"show": show}

            @app.post("/run/<name>/<int:pk>")
            def run(name, pk):
                return VIEWS[name](pk)

            @app.post("/get/<name>/<int:pk>")
            def run_get(name, pk):
                view = VIEWS.get(name)
                return view(pk)

            @app.get("/plain/<name>/<int:pk>")
            def plain(name, pk):
                return PLAIN[name](pk)
            """,
        },
        {
            "run": ("offloaded", False),
            "run_get": ("offloaded", False),
            "plain": ("inline", False),
        },
    )


def test_a_third_party_view_named_like_a_django_auth_view_has_only_its_own_methods(run_audit):
    """Item 104: Django's ``LoginView`` answers GET and POST; dj-rest-auth's, of the same
    name, is a DRF view answering POST only; django-allauth's is a form view, like Django's."""
    report = run_audit(
        {
            "views.py": """
            from django.contrib.auth import views as auth_views
            from allauth.account.views import LoginView as AllauthLogin
            from dj_rest_auth.views import LoginView

            class ApiLogin(LoginView):
                def post(self, request, *args, **kwargs):
                    return super().post(request, *args, **kwargs)

            class PageLogin(auth_views.LoginView):
                template_name = "login.html"

            class SiteLogin(AllauthLogin):
                template_name = "account/login.html"
            """,
            "urls.py": """
            from django.urls import path
            from views import ApiLogin, PageLogin, SiteLogin

            urlpatterns = [
                path("api/login", ApiLogin.as_view()),
                path("login", PageLogin.as_view()),
                path("accounts/login", SiteLogin.as_view()),
            ]
            """,
        }
    )
    assert _routes(report) == {
        ("ApiLogin.post", "POST", "/api/login"),
        ("PageLogin.get", "GET", "/login"),
        ("PageLogin.post", "POST", "/login"),
        ("SiteLogin.get", "GET", "/accounts/login"),
        ("SiteLogin.post", "POST", "/accounts/login"),
    }


def test_a_cascading_delete_runs_the_delete_receivers_of_the_rows_it_deletes(check):
    """Item 109: deleting an Account deletes its members (``on_delete=CASCADE``), and
    Django sends their delete signals; a ``SET_NULL`` key deletes nothing, and a member's
    own ``delete()`` override is not run by a cascade."""
    check(
        {
            "tasks.py": TASKS,
            "models.py": """
            from django.conf import settings
            from django.db import models

            class Account(models.Model):
                name = models.CharField(max_length=10)

            class Team(models.Model):
                name = models.CharField(max_length=10)

            class Member(models.Model):
                account = models.ForeignKey(Account, on_delete=models.CASCADE)
                team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True)

            class Badge(models.Model):
                member = models.OneToOneField("Member", models.CASCADE)

            class Token(models.Model):
                user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

                def delete(self, *args, **kwargs):
                    from tasks import reindex
                    reindex.delay(self.pk)
                    return super().delete(*args, **kwargs)
            """,
            "receivers.py": """
            from django.db.models.signals import post_delete
            from django.dispatch import receiver
            from models import Badge
            from tasks import reindex

            @receiver(post_delete, sender=Badge)
            def badge_gone(sender, instance, **kwargs):
                reindex.delay(instance.pk)
            """,
            "views.py": """
            from django.contrib.auth.models import User
            from django.http import HttpResponse
            from models import Account, Team

            def close_account(request, pk):
                Account.objects.get(pk=pk).delete()
                return HttpResponse("")

            def purge_accounts(request):
                Account.objects.filter(name="").delete()
                return HttpResponse("")

            def drop_team(request, pk):
                Team.objects.get(pk=pk).delete()
                return HttpResponse("")

            def drop_user(request, pk):
                User.objects.get(pk=pk).delete()
                return HttpResponse("")
            """,
            "urls.py": """
            from django.urls import path
            from views import close_account, drop_team, drop_user, purge_accounts

            urlpatterns = [
                path("accounts/<int:pk>/close", close_account),
                path("accounts/purge", purge_accounts),
                path("teams/<int:pk>/drop", drop_team),
                path("users/<int:pk>/drop", drop_user),
            ]
            """,
        },
        {
            "close_account": ("offloaded", False),
            "purge_accounts": ("offloaded", False),
            "drop_team": ("inline", False),
            "drop_user": ("inline", False),
        },
    )


def test_a_heavy_library_class_used_through_a_project_subclass(check):
    """Item 110: the methods a project subclass inherits from a library class, and the
    base's constructor it calls through ``super().__init__``, are the library's: heavy as
    on the library class. A subclass of a plain library class is not."""
    check(
        {
            "app.py": """
            import smtplib
            from collections import OrderedDict

            import requests
            from fastapi import FastAPI

            app = FastAPI()

            class LoggingSMTP(smtplib.SMTP):
                def __init__(self, host="", port=0, log=None):
                    self.log = log
                    super().__init__(host, port)

            class TimeoutSession(requests.Session):
                def request(self, *args, **kwargs):
                    kwargs.setdefault("timeout", 10)
                    return super().request(*args, **kwargs)

            class Registry(OrderedDict):
                def describe(self):
                    return list(self)

            @app.post("/smtp/test")
            def test_smtp(host: str, port: int):
                LoggingSMTP(host, port)
                return {"ok": True}

            @app.get("/proxy")
            def proxy(url: str):
                return TimeoutSession().get(url).json()

            @app.get("/registry")
            def registry():
                found = Registry()
                found.update({"a": 1})
                return found.describe()
            """,
        },
        {
            "test_smtp": ("inline", True),
            "proxy": ("inline", True),
            "registry": ("inline", False),
        },
    )


def test_a_task_decorator_factory_returning_shared_task_ready_made(check):
    """Item 112: ``return shared_task(*args, base=RetryTask, **kwargs)`` from a project
    factory makes ``@retry_task(...)`` Celery's task decorator; a factory that returns a
    plain decorator of its own does not."""
    check(
        {
            "common.py": """
            from celery import Task, shared_task

            class RetryTask(Task):
                pass

            def retry_task(*args, **kwargs):
                return shared_task(*args, base=RetryTask, **kwargs)

            def logged(**kwargs):
                def decorator(fn):
                    return fn
                return decorator
            """,
            "tasks.py": """
            from common import logged, retry_task

            @retry_task(autoretry_for=(Exception,))
            def wrapped_job(pk):
                pass

            @logged(level=1)
            def plain_job(pk):
                pass
            """,
            "views.py": """
            from django.http import JsonResponse
            from tasks import plain_job, wrapped_job

            def wrapped_view(request):
                wrapped_job.apply_async((1,))
                return JsonResponse({})

            def plain_view(request):
                plain_job(1)
                return JsonResponse({})
            """,
            "urls.py": """
            from django.urls import path
            from views import plain_view, wrapped_view

            urlpatterns = [path("wrapped/", wrapped_view), path("plain/", plain_view)]
            """,
        },
        {"wrapped_view": ("offloaded", False), "plain_view": ("inline", False)},
    )


def test_a_url_list_written_with_an_annotation_is_read(run_audit):
    """Item 113: ``urlpatterns: list[URLPattern] = [...]`` is the URL list, prefixes and all."""
    report = run_audit(
        {
            "views.py": """
            from django.http import HttpResponse

            def health(request):
                return HttpResponse("ok")

            def items(request):
                return HttpResponse("")
            """,
            "api_urls.py": """
            from django.urls import path
            from views import items

            urlpatterns = [path("items/", items)]
            """,
            "settings.py": 'ROOT_URLCONF = "urls"\n',
            "urls.py": """
            from django.urls import URLPattern, URLResolver, include, path
            from views import health

            urlpatterns: list[URLPattern | URLResolver] = [
                path("health/", health),
                path("api/v1/", include("api_urls")),
            ]
            """,
        }
    )
    assert _routes(report) == {("health", "ANY", "/health/"), ("items", "ANY", "/api/v1/items/")}


def test_slack_and_sendgrid_calls_are_heavy(check):
    """Item 114: Slack's Web API client (also through a project subclass) and SendGrid."""
    check(
        {
            "app.py": """
            from fastapi import FastAPI
            from sendgrid import SendGridAPIClient
            from slack_sdk import WebClient

            app = FastAPI()

            class SlackClient(WebClient):
                def __init__(self, token):
                    super().__init__(token=token, timeout=5)

            @app.post("/notify")
            def notify(text: str):
                WebClient(token="t").chat_postMessage(channel="#ops", text=text)
                return {}

            @app.post("/notify-sub")
            def notify_sub(text: str):
                SlackClient("t").chat_postMessage(channel="#ops", text=text)
                return {}

            @app.post("/mail")
            def mail(text: str):
                SendGridAPIClient("key").send({"text": text})
                return {}
            """,
        },
        {
            "notify": ("inline", True),
            "notify_sub": ("inline", True),
            "mail": ("inline", True),
        },
    )


def test_work_appended_to_a_list_a_background_thread_of_the_object_drains(check):
    """Item 111: a method that appends to ``self.pending``, which another method of the
    class hands item by item to its executor, leaves the work running in this process
    after the response; a list its reader only logs is not a hand-off."""
    check(
        {
            "scheduler.py": """
            import logging
            import threading
            import time
            from concurrent.futures import ThreadPoolExecutor

            class Scheduler:
                def __init__(self):
                    self.pending = []
                    self.lock = threading.Lock()
                    self.executor = ThreadPoolExecutor(max_workers=4)

                def start(self):
                    self.executor.submit(self._loop)

                def add_run(self, job_id):
                    with self.lock:
                        self.pending.append({"id": job_id})
                    return job_id

                def _drain(self):
                    with self.lock:
                        items, self.pending = self.pending, []
                    for item in items:
                        self.executor.submit(self._run, item)

                def _loop(self):
                    while True:
                        self._drain()
                        time.sleep(1)

                def _run(self, item):
                    return item

            class Audit:
                def __init__(self):
                    self.seen = []

                def note(self, what):
                    self.seen.append(what)

                def dump(self):
                    logging.info("%s", self.seen)

            scheduler = Scheduler()
            audit = Audit()
            """,
            "main.py": """
            from fastapi import FastAPI
            from scheduler import audit, scheduler

            app = FastAPI()

            @app.post("/jobs/{job_id}/run")
            def run_job(job_id: str):
                return {"execution": scheduler.add_run(job_id)}

            @app.post("/notes")
            def note(text: str):
                audit.note(text)
                return {}
            """,
        },
        {"run_job": ("inprocess_background", False), "note": ("inline", False)},
    )


def test_drf_generic_hooks_to_internal_value_pagination_and_get_object(check):
    """Item 115: ``is_valid()`` runs a serializer's ``to_internal_value``; ``list`` runs
    ``paginate_queryset`` and ``filter_queryset``; ``get_object`` (retrieve, update,
    destroy) runs ``get_queryset``."""
    check(
        {
            "tasks.py": TASKS,
            "views.py": """
            import requests
            from rest_framework import mixins, serializers, viewsets
            from tasks import reindex

            class ChannelSerializer(serializers.Serializer):
                def to_internal_value(self, data):
                    requests.get("https://chat.example/channels/" + data["id"], timeout=5)
                    return super().to_internal_value(data)

            class ChannelViewSet(viewsets.GenericViewSet, mixins.CreateModelMixin):
                serializer_class = ChannelSerializer

                def perform_create(self, serializer):
                    pass

            class PagedViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
                def paginate_queryset(self, queryset):
                    reindex.delay(0)
                    return super().paginate_queryset(queryset)

            class HookViewSet(viewsets.GenericViewSet, mixins.DestroyModelMixin):
                def get_queryset(self):
                    reindex.delay(1)
                    return []

                def perform_destroy(self, instance):
                    pass
            """,
            "urls.py": """
            from rest_framework.routers import DefaultRouter
            from views import ChannelViewSet, HookViewSet, PagedViewSet

            router = DefaultRouter()
            router.register("channels", ChannelViewSet, basename="channel")
            router.register("paged", PagedViewSet, basename="paged")
            router.register("hooks", HookViewSet, basename="hook")
            urlpatterns = router.urls
            """,
        },
        {
            "ChannelViewSet.create": ("inline", True),
            "PagedViewSet.list": ("offloaded", False),
            "HookViewSet.destroy": ("offloaded", False),
        },
    )


def test_a_callable_an_object_was_given_is_listed_when_it_cannot_be_found(run_audit):
    """Item 117: ``MountPoint(url, view)`` keeps the view it is given; calling
    ``mount_point.view(request)`` runs what some caller passed, which the audit cannot
    see here: the call is listed as unresolved and the endpoint is ``likely``. An
    attribute holding a known function is followed as before."""
    report = run_audit(
        {
            "tasks.py": TASKS,
            "app.py": """
            from flask import Flask
            from tasks import reindex

            app = Flask(__name__)

            class MountPoint:
                def __init__(self, url, view):
                    self.url = url
                    self.view = view

            class Fixed:
                def __init__(self):
                    self.view = rebuild

            def rebuild():
                reindex.delay(1)
                return "queued"

            def serve(mount_point: MountPoint):
                return mount_point.view()

            HOME = MountPoint("home", None)

            @app.post("/plugins/<name>")
            def plugin(name):
                return serve(lookup(name))

            @app.get("/home")
            def home():
                return HOME.view()

            def lookup(name):
                raise LookupError(name)

            @app.post("/fixed")
            def fixed():
                return Fixed().view()
            """,
        }
    )
    found = {e.handler: e for e in report.endpoints}
    for handler, call in (("plugin", "mount_point.view()"), ("home", "HOME.view()")):
        endpoint = found[handler]
        assert (endpoint.status, endpoint.confidence) == ("inline", "likely")
        assert [u.call for u in endpoint.unresolved_calls] == [call]
        assert "given" in endpoint.unresolved_calls[0].reason
    assert (found["fixed"].status, found["fixed"].confidence) == ("offloaded", "certain")
