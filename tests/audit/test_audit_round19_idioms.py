"""Shapes round 19 found read wrong (PATTERNS.md items 211-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations


def test_framework_background_spellings_are_background(check):
    """Item 211: FastAPI's BackgroundTasks from ``fastapi.background`` under an alias,
    Litestar's background tasks on a response, and Quart's ``add_background_task`` run after
    the response in this process. A handler that awaits its work stays inline."""
    check(
        {
            "svc/api.py": """
            from fastapi import FastAPI
            from fastapi.background import BackgroundTasks as Later

            app = FastAPI()

            def job(x):
                return x

            @app.post("/aliased")
            async def aliased(tasks: Later):
                tasks.add_task(job, 1)
                return {}

            @app.post("/awaited")
            async def awaited():
                return job(1)
            """,
            "svc/lite.py": """
            from litestar import Litestar, Response, get
            from litestar.background_tasks import BackgroundTask, BackgroundTasks

            def job(x):
                return x

            @get("/one")
            async def one() -> Response:
                return Response({}, background=BackgroundTask(job, 1))

            @get("/many")
            async def many() -> Response:
                tasks = BackgroundTasks([BackgroundTask(job, 1), BackgroundTask(job, 2)])
                return Response({}, background=tasks)

            @get("/none")
            async def none() -> Response:
                return Response({})

            app = Litestar(route_handlers=[one, many, none])
            """,
            "svc/q.py": """
            from quart import Quart

            qapp = Quart(__name__)

            def job(x):
                return x

            @qapp.post("/later")
            async def later():
                qapp.add_background_task(job, 1)
                return {}

            @qapp.post("/now")
            async def now():
                return job(1)
            """,
        },
        {
            "aliased": ("inprocess_background", False),
            "awaited": ("inline", False),
            "one": ("inprocess_background", False),
            "many": ("inprocess_background", False),
            "none": ("inline", False),
            "later": ("inprocess_background", False),
            "now": ("inline", False),
        },
    )


def test_a_dependency_s_own_dependencies_run_with_the_route(check):
    """Item 212: FastAPI runs a dependency's own dependencies, those of an
    ``Annotated[T, Depends(f)]`` alias defined in another module, and those given to the
    router, to ``include_router`` and to the app. A dependency that does nothing keeps the
    route inline."""
    check(
        {
            "svc/__init__.py": "",
            "svc/tasks.py": """
            from celery import shared_task

            @shared_task
            def touch_last_seen(pk):
                return pk
            """,
            "svc/deps.py": """
            from typing import Annotated
            from fastapi import Depends, Request
            from svc.tasks import touch_last_seen

            def get_current_user(request: Request):
                touch_last_seen.delay(1)
                return {"id": 1}

            def get_verified_user(user=Depends(get_current_user)):
                return user

            def get_admin(user: Annotated[dict, Depends(get_verified_user)]):
                return user

            def plain_dep():
                return 1

            Admin = Annotated[dict, Depends(get_admin)]
            Plain = Annotated[int, Depends(plain_dep)]
            """,
            "svc/api.py": """
            from fastapi import APIRouter, Depends, FastAPI
            from svc.deps import Admin, Plain, get_admin, get_current_user, get_verified_user

            router = APIRouter()

            @router.get("/nested")
            def nested(user=Depends(get_verified_user)):
                return user

            @router.get("/twice_nested")
            def twice_nested(user=Depends(get_admin)):
                return user

            @router.get("/aliased")
            def aliased(user: Admin):
                return user

            @router.get("/plain_alias")
            def plain_alias(value: Plain):
                return value

            @router.get("/listed", dependencies=[Depends(get_verified_user)])
            def listed():
                return 1

            guarded = APIRouter(dependencies=[Depends(get_current_user)])

            @guarded.get("/router_level")
            def router_level():
                return 1

            sub = APIRouter()

            @sub.get("/included")
            def included():
                return 1

            app = FastAPI()
            app.include_router(router)
            app.include_router(guarded)
            app.include_router(sub, prefix="/s", dependencies=[Depends(get_verified_user)])

            inner = FastAPI(dependencies=[Depends(get_verified_user)])

            @inner.get("/app_level")
            def app_level():
                return 1

            free = FastAPI()

            @free.get("/free")
            def no_dependencies():
                return 1
            """,
        },
        {
            "nested": ("offloaded", False),
            "twice_nested": ("offloaded", False),
            "aliased": ("offloaded", False),
            "plain_alias": ("inline", False),
            "listed": ("offloaded", False),
            "router_level": ("offloaded", False),
            "included": ("offloaded", False),
            "app_level": ("offloaded", False),
            "no_dependencies": ("inline", False),
        },
    )


def test_a_callable_bound_in_both_arms_is_either(check):
    """Item 213: ``send`` bound to a queuing closure in one arm and to a plain function in
    the other, then called: either may run. A local also read as an object keeps its last
    binding, and so does one bound in both arms to plain functions."""
    check(
        {
            "app.py": """
            from celery import shared_task
            from flask import Flask, request

            app = Flask(__name__)

            @shared_task
            def mail_task(to):
                return to

            def wrap_job(name):
                def caller(*args):
                    mail_task.delay(args)
                    return True
                return caller

            def send_now(to):
                print("sending", to)

            def send_later(to):
                print("later", to)

            def send_or_enqueue(cfg, to):
                if cfg.get("enqueue_job"):
                    send = wrap_job("mail")
                else:
                    send = send_now
                return send(to)

            @app.post("/mail")
            def mail():
                send_or_enqueue(request.json, "a@b.c")
                return "ok"

            @app.post("/swapped")
            def swapped():
                if request.json:
                    send = send_now
                else:
                    send = wrap_job("mail")
                send("a@b.c")
                return "ok"

            @app.post("/plain")
            def plain():
                if request.json:
                    send = send_now
                else:
                    send = send_later
                send("a@b.c")
                return "ok"
            """
        },
        {
            "mail": ("offloaded", False),
            "swapped": ("offloaded", False),
            "plain": ("inline", False),
        },
    )


def test_a_partial_of_a_parameter_s_method_runs_it(check):
    """Item 214: ``on_commit(partial(instance.project.refresh, ...))`` in a receiver runs
    the method of what ``instance`` holds; a partial of a method that does nothing queued
    stays inline."""
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def refresh_stats(pk):
                return pk
            """,
            "app/models.py": """
            from functools import partial
            from django.db import models, transaction
            from django.db.models.signals import post_delete
            from django.dispatch import receiver
            from app.tasks import refresh_stats

            class Project(models.Model):
                def cleanup_label_stats(self, name):
                    refresh_stats.delay(self.pk)

                def note(self, name):
                    return name

            class Label(models.Model):
                project = models.ForeignKey(Project, on_delete=models.CASCADE)
                name = models.CharField(max_length=50)

            class Tag(models.Model):
                project = models.ForeignKey(Project, on_delete=models.CASCADE)

            @receiver(post_delete, sender=Label)
            def label_deleted(sender, instance, **kwargs):
                transaction.on_commit(
                    partial(instance.project.cleanup_label_stats, name=instance.name)
                )

            @receiver(post_delete, sender=Tag)
            def tag_deleted(sender, instance, **kwargs):
                transaction.on_commit(partial(instance.project.note, name="x"))
            """,
            "app/views.py": """
            from django.http import HttpResponse
            from django.shortcuts import get_object_or_404
            from app.models import Label, Tag

            def label_delete(request, pk):
                get_object_or_404(Label, pk=pk).delete()
                return HttpResponse("ok")

            def tag_delete(request, pk):
                get_object_or_404(Tag, pk=pk).delete()
                return HttpResponse("ok")
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [
                path("labels/<int:pk>/delete", views.label_delete),
                path("tags/<int:pk>/delete", views.tag_delete),
            ]
            """,
        },
        {"label_delete": ("offloaded", False), "tag_delete": ("inline", False)},
    )


def test_a_receiver_connected_by_a_decorator_factory(check):
    """Item 215: ``@index_receiver(post_save, Post)`` where the factory connects its own
    ``signal`` parameter: the decorated function receives Post's saves, not Note's."""
    check(
        {
            "search/__init__.py": "",
            "search/tasks.py": """
            from celery import shared_task

            @shared_task
            def index_post(pk):
                return pk
            """,
            "search/decorators.py": """
            from django.conf import settings

            def index_receiver(signal, sender):
                def decorator(func):
                    def wrapped(*args, **kwargs):
                        if settings.LIVE_INDEXING:
                            return func(*args, **kwargs)
                    signal.connect(wrapped, sender=sender, dispatch_uid=func.__name__)
                    return wrapped
                return decorator

            def logged(label):
                def decorator(func):
                    return func
                return decorator
            """,
            "search/signals.py": """
            from django.db.models.signals import post_save
            from search.decorators import index_receiver, logged
            from search.models import Note, Post
            from search.tasks import index_post

            @index_receiver(post_save, Post)
            def on_post_save(instance, **kwargs):
                index_post.delay(instance.pk)

            @logged(Note)
            def on_note(instance, **kwargs):
                index_post.delay(instance.pk)
            """,
            "search/apps.py": """
            from django.apps import AppConfig

            class SearchConfig(AppConfig):
                name = "search"

                def ready(self):
                    from search import signals  # noqa: F401
            """,
            "search/models.py": """
            from django.db import models

            class Post(models.Model):
                body = models.TextField()

            class Note(models.Model):
                body = models.TextField()
            """,
            "search/views.py": """
            from django.http import HttpResponse
            from search.models import Note, Post

            def edit_post(request, pk):
                post = Post.objects.get(pk=pk)
                post.body = request.POST["body"]
                post.save()
                return HttpResponse("ok")

            def edit_note(request, pk):
                note = Note.objects.get(pk=pk)
                note.save()
                return HttpResponse("ok")
            """,
            "search/urls.py": """
            from django.urls import path
            from search import views

            urlpatterns = [path("p/<int:pk>", views.edit_post), path("n/<int:pk>", views.edit_note)]
            """,
        },
        {"edit_post": ("offloaded", False), "edit_note": ("inline", False)},
    )


def test_m2m_changed_on_relations_a_library_declares(check):
    """Item 216: Django's own ``User.groups`` (from either side) and a taggit manager fire
    ``m2m_changed`` for their through models; a receiver for another relation does not
    run, and a plain save stays inline."""
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def index_object(kind, pk):
                return pk
            """,
            "app/models.py": """
            from django.contrib.auth.models import User
            from django.db import models
            from django.db.models.signals import m2m_changed
            from django.dispatch import receiver
            from taggit.managers import TaggableManager
            from app.tasks import index_object

            class Question(models.Model):
                title = models.CharField(max_length=10)
                tags = TaggableManager()

            @receiver(m2m_changed, sender=User.groups.through)
            def on_groups_changed(sender, instance, action, **kwargs):
                index_object.delay("profile", instance.pk)

            @receiver(m2m_changed, sender=User.user_permissions.through)
            def on_permissions_changed(sender, instance, action, **kwargs):
                index_object.delay("perms", instance.pk)

            @receiver(m2m_changed, sender=Question.tags.through)
            def on_tags_changed(sender, instance, action, **kwargs):
                index_object.delay("question", instance.pk)
            """,
            "app/views.py": """
            from django.contrib.auth.models import Group, Permission, User
            from django.http import HttpResponse
            from django.shortcuts import get_object_or_404
            from app.models import Question

            def add_member(request, pk):
                user = get_object_or_404(User, pk=pk)
                user.groups.add(Group.objects.get(name="x"))
                return HttpResponse("ok")

            def add_to_group(request, pk):
                group = Group.objects.get(pk=pk)
                group.user_set.add(request.user)
                return HttpResponse("ok")

            def grant(request, pk):
                group = Group.objects.get(pk=pk)
                group.permissions.add(Permission.objects.get(codename="x"))
                return HttpResponse("ok")

            def add_tag(request, pk):
                question = get_object_or_404(Question, pk=pk)
                question.tags.add("urgent")
                return HttpResponse("ok")

            def rename(request, pk):
                question = get_object_or_404(Question, pk=pk)
                question.title = "x"
                question.save()
                return HttpResponse("ok")
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [
                path("a/<int:pk>", views.add_member),
                path("b/<int:pk>", views.add_to_group),
                path("c/<int:pk>", views.grant),
                path("d/<int:pk>", views.add_tag),
                path("e/<int:pk>", views.rename),
            ]
            """,
        },
        {
            "add_member": ("offloaded", False),
            "add_to_group": ("offloaded", False),
            "grant": ("inline", False),
            "add_tag": ("offloaded", False),
            "rename": ("inline", False),
        },
    )


def test_urlconfs_reached_twice_or_through_another_list(run_audit):
    """Item 217: a router in a URLconf included under two prefixes is served under both;
    a URLconf included only from a list another list includes is not also a root."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": """
            PROJECT_MODULE = "proj"
            ROOT_URLCONF = "{}.urls".format(PROJECT_MODULE)
            """,
            "proj/urls.py": """
            from django.urls import include, path

            urlpatterns = [
                path("kb/", include("wiki.urls")),
                path("api/1/users/", include("users.urls_api")),
                path("api/", include("users.urls_api")),
            ]
            """,
            "wiki/__init__.py": "",
            "wiki/views.py": """
            from django.http import HttpResponse

            def doc(request, slug):
                return HttpResponse("x")
            """,
            "wiki/urls.py": """
            from django.urls import include, re_path
            from wiki import views

            document_patterns = [
                re_path(r"^discuss/", include("discuss.urls")),
                re_path(r"^$", views.doc),
            ]
            urlpatterns = [re_path(r"^(?P<slug>[^/]+)/", include(document_patterns))]
            """,
            "discuss/__init__.py": "",
            "discuss/views.py": """
            from django.http import HttpResponse

            def threads(request, slug):
                return HttpResponse("x")
            """,
            "discuss/urls.py": """
            from django.urls import re_path
            from discuss import views

            urlpatterns = [re_path(r"^new$", views.threads)]
            """,
            "users/__init__.py": "",
            "users/api.py": """
            from rest_framework import viewsets

            class ProfileViewSet(viewsets.ReadOnlyModelViewSet):
                queryset = None
            """,
            "users/urls_api.py": """
            from django.urls import include, re_path
            from rest_framework import routers
            from users import api

            router = routers.SimpleRouter()
            router.register(r"user", api.ProfileViewSet, basename="user")
            urlpatterns = [re_path("^2/", include(router.urls))]
            """,
        }
    )
    routes = sorted((e.handler, e.route) for e in report.endpoints)
    assert routes == [
        ("ProfileViewSet.list", "/api/1/users/2/user/"),
        ("ProfileViewSet.list", "/api/2/user/"),
        ("ProfileViewSet.retrieve", "/api/1/users/2/user/{pk}/"),
        ("ProfileViewSet.retrieve", "/api/2/user/{pk}/"),
        ("doc", "/kb/(?P<slug>[^/]+)/"),
        ("threads", "/kb/(?P<slug>[^/]+)/discuss/new"),
    ]


def test_a_method_of_one_of_several_returned_classes(check):
    """Item 218: ``parse_path(...)`` returns a Language or a Project; ``.do_lock()`` on it
    is Project's, and ``.describe()``, which only Language defines, stays Language's."""
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def push_task(pk):
                return pk
            """,
            "app/models.py": """
            from django.db import models
            from app.tasks import push_task

            class Language(models.Model):
                code = models.CharField(max_length=5)

                def describe(self):
                    return self.code

            class Project(models.Model):
                slug = models.CharField(max_length=5)

                def do_lock(self, user):
                    push_task.delay(self.pk)
            """,
            "app/utils.py": """
            from django.shortcuts import get_object_or_404
            from app.models import Language, Project

            def parse_path(request, path, types):
                if None in types and not path:
                    return None
                if path[0] == "-":
                    return get_object_or_404(Language, code=path[1])
                return get_object_or_404(Project, slug=path[0])
            """,
            "app/views.py": """
            from django.http import HttpResponse
            from app.models import Project
            from app.utils import parse_path

            def lock(request, path):
                obj = parse_path(request, path.split("/"), (Project,))
                obj.do_lock(request.user)
                return HttpResponse("ok")

            def describe(request, path):
                obj = parse_path(request, path.split("/"), (Project,))
                return HttpResponse(obj.describe())
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [
                path("lock/<path:path>", views.lock),
                path("d/<path:path>", views.describe),
            ]
            """,
        },
        {"lock": ("offloaded", False), "describe": ("inline", False)},
    )


def test_a_call_through_type_of_self_is_seen(check):
    """Item 219: ``type(self).async_execute.apply_async(...)`` is recorded; with item 229
    the task ``__init_subclass__`` sets on ``cls`` is read, so it is a dispatch, and one on
    an attribute nothing sets stays an unresolved dispatch; ``type(self).helper()`` runs
    the class's method."""
    report = check(
        {
            "app/__init__.py": "",
            "app/celery.py": """
            from celery import Celery

            app = Celery("e")

            @app.task
            def rebuild(pk):
                return pk
            """,
            "app/views.py": """
            from django.http import HttpResponse
            from django.views import View
            from app.celery import app, rebuild

            class AsyncView(View):
                def __init_subclass__(cls):
                    def async_execute(self, data):
                        return cls().run(data)
                    cls.async_execute = app.task(bind=True, name=cls.__name__)(async_execute)

                def post(self, request):
                    type(self).async_execute.apply_async(kwargs={"data": 1})
                    return HttpResponse("ok")

            class Unknown(View):
                def post(self, request):
                    type(self).runner.apply_async(kwargs={"data": 1})
                    return HttpResponse("ok")

            class Kick(View):
                @staticmethod
                def later(pk):
                    rebuild.delay(pk)

                def post(self, request):
                    type(self).later(1)
                    return HttpResponse("ok")
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [
                path("a", views.AsyncView.as_view()),
                path("u", views.Unknown.as_view()),
                path("k", views.Kick.as_view()),
            ]
            """,
        },
        {
            "AsyncView.post": ("offloaded", False),
            "Unknown.post": ("unresolved", False),
            "Kick.post": ("offloaded", False),
        },
    )
    (dispatch,) = [e for e in report.endpoints if e.handler == "Unknown.post"]
    assert [u.call for u in dispatch.unresolved_calls] == [
        'type(self).runner.apply_async(kwargs={"data": 1})'
    ]


def test_asyncer_runners_and_models_in_the_request_are_heavy(check):
    """Item 220: HTTP run through asyncer's asyncify/soonify is inline and heavy, as
    through anyio; a transformers pipeline and a LangChain chat model called in the handler
    are heavy; a handler that does neither is light."""
    check(
        {
            "app/main.py": """
            import httpx
            from asyncer import asyncify, create_task_group
            from fastapi import FastAPI
            from langchain_openai import ChatOpenAI
            from transformers import pipeline

            app = FastAPI()
            model = pipeline("sentiment-analysis")

            def fetch(city: str):
                return httpx.get(f"https://wttr.in/{city}").json()

            async def afetch(city: str):
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"https://wttr.in/{city}")).json()

            @app.get("/asyncify")
            async def via_asyncify(city: str):
                return await asyncify(fetch)(city=city)

            @app.get("/soonify")
            async def via_soonify(cities: list[str]):
                async with create_task_group() as tg:
                    values = [tg.soonify(afetch)(city=c) for c in cities]
                return [v.value for v in values]

            @app.post("/sentiment")
            async def sentiment(text: str):
                return model(text)

            @app.post("/chat")
            async def chat(text: str):
                return ChatOpenAI(temperature=0).invoke(text)

            @app.get("/plain")
            async def plain(city: str):
                return {"city": city}
            """
        },
        {
            "via_asyncify": ("inline", True),
            "via_soonify": ("inline", True),
            "sentiment": ("inline", True),
            "chat": ("inline", True),
            "plain": ("inline", False),
        },
    )


def test_a_class_used_as_a_decorator_runs_its_wrapper(check):
    """Item 221: ``@postpolicy(check)`` runs the wrapper ``__call__`` returns, whose
    ``self.function`` is ``check``; ``@audited`` runs its ``__call__``. A policy that does
    nothing keeps its route inline."""
    check(
        {
            "app.py": """
            import functools
            from celery import shared_task
            from flask import Flask

            app = Flask(__name__)

            @shared_task
            def send_mail(to):
                return to

            def verify_enrollment(req, response):
                send_mail.delay("a@b.c")
                return response

            def noop(req, response):
                return response

            class postpolicy:
                def __init__(self, function, request=None):
                    self.function = function
                    self.request = request

                def __call__(self, wrapped):
                    @functools.wraps(wrapped)
                    def policy_wrapper(*args, **kwds):
                        return self.function(self.request, wrapped(*args, **kwds))
                    return policy_wrapper

            class audited:
                def __init__(self, func):
                    self.func = func

                def __call__(self, *args, **kwargs):
                    send_mail.delay("audit@example.org")
                    return self.func(*args, **kwargs)

            @app.route("/token/init", methods=["POST"])
            @postpolicy(verify_enrollment)
            def init():
                return "ok"

            @app.route("/token/plain", methods=["POST"])
            @postpolicy(noop)
            def plain():
                return "ok"

            @app.route("/audited", methods=["POST"])
            @audited
            def audited_view():
                return "ok"
            """
        },
        {
            "init": ("offloaded", False),
            "plain": ("inline", False),
            "audited_view": ("offloaded", False),
        },
    )


def test_routers_mounted_in_a_loop_on_an_app_a_factory_makes(run_audit):
    """Item 222: routers included in a loop over a literal list, on a FastAPI app a factory
    makes and returns, hang under where that factory's result is mounted; a loop at module
    level keeps its prefix too."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/items.py": """
            from fastapi import APIRouter

            router = APIRouter()

            @router.post("/items")
            async def create_item():
                return {}
            """,
            "app/jobs.py": """
            from fastapi import APIRouter

            router = APIRouter(prefix="/jobs")

            @router.get("/{job_id}")
            async def get_job(job_id: str):
                return {}
            """,
            "app/extra.py": """
            from fastapi import APIRouter

            router = APIRouter()

            @router.get("/extra")
            async def extra():
                return {}
            """,
            "app/routes.py": """
            from fastapi import FastAPI
            from app import items, jobs

            def create_api_v1():
                api = FastAPI()
                for router in [items.router, jobs.router]:
                    api.include_router(router)
                return api

            api_v1 = create_api_v1()
            """,
            "app/main.py": """
            from fastapi import FastAPI
            from app import extra
            from app.routes import api_v1

            app = FastAPI()
            app.mount("/api/v1", api_v1)
            for router in [extra.router]:
                app.include_router(router, prefix="/more")
            """,
        }
    )
    routes = sorted((e.handler, e.route) for e in report.endpoints)
    assert routes == [
        ("create_item", "/api/v1/items"),
        ("extra", "/more/extra"),
        ("get_job", "/api/v1/jobs/{job_id}"),
    ]


def test_route_methods_named_by_a_constant(run_audit):
    """Item 223: ``methods=PROXY_METHODS`` (defined here or imported) lists those
    methods; a literal list still does."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/constants.py": """
            SHARED_METHODS = ("GET", "DELETE")
            """,
            "app/main.py": """
            from fastapi import FastAPI
            from app.constants import SHARED_METHODS

            app = FastAPI()
            PROXY_METHODS = ["GET", "POST", "PUT"]

            @app.api_route("/proxy/{path:path}", methods=PROXY_METHODS)
            async def proxy(path: str):
                return {}

            @app.api_route("/shared", methods=SHARED_METHODS)
            async def shared():
                return {}

            @app.api_route("/two", methods=["GET", "POST"])
            async def two():
                return {}
            """,
        }
    )
    methods = {e.handler: list(e.methods) for e in report.endpoints}
    assert methods == {
        "proxy": ["GET", "POST", "PUT"],
        "shared": ["GET", "DELETE"],
        "two": ["GET", "POST"],
    }


def test_the_row_of_get_or_create_unpacked(check):
    """Item 224: ``hook, created = Webhook.objects.get_or_create(...)`` makes ``hook`` a
    Webhook: its ``notify`` runs, not the other class's that starts a thread."""
    check(
        {
            "app/__init__.py": "",
            "app/models.py": """
            import threading
            from django.db import models

            class Webhook(models.Model):
                url = models.URLField()

                def notify(self):
                    return self.url

            class Email(models.Model):
                def notify(self):
                    threading.Thread(target=print).start()
            """,
            "app/views.py": """
            from django.http import HttpResponse
            from app.models import Webhook

            def hook(request):
                hook, created = Webhook.objects.get_or_create(url="https://example.org")
                hook.notify()
                return HttpResponse("ok")
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [path("hook", views.hook)]
            """,
        },
        {"hook": ("inline", False)},
    )


def test_dynamic_rest_viewsets_serve_model_viewset_actions(run_audit):
    """Item 225: a ``DynamicModelViewSet`` on a ``DynamicRouter`` answers ModelViewSet's
    six actions; its destroy runs the model's ``delete`` override."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/tasks.py": """
            from celery import shared_task

            @shared_task
            def notify(pk):
                return pk
            """,
            "proj/models.py": """
            from django.db import models
            from proj.tasks import notify

            class Map(models.Model):
                title = models.CharField(max_length=10)

                def delete(self, *args, **kwargs):
                    notify.delay(self.pk)
                    return super().delete(*args, **kwargs)
            """,
            "proj/api.py": """
            from dynamic_rest.viewsets import DynamicModelViewSet
            from proj.models import Map

            class MapViewSet(DynamicModelViewSet):
                queryset = Map.objects.all()
            """,
            "proj/urls.py": """
            from django.urls import include, path
            from dynamic_rest.routers import DynamicRouter
            from proj.api import MapViewSet

            router = DynamicRouter()
            router.register(r"maps", MapViewSet, "maps")
            urlpatterns = [path("api/v2/", include(router.urls))]
            """,
        }
    )
    statuses = {e.handler: e.status for e in report.endpoints}
    assert statuses == {
        "MapViewSet.list": "inline",
        "MapViewSet.create": "inline",
        "MapViewSet.retrieve": "inline",
        "MapViewSet.update": "inline",
        "MapViewSet.partial_update": "inline",
        "MapViewSet.destroy": "offloaded",
    }
    assert report.unrecognized == []


def test_a_method_a_proxy_forwards_is_looked_for(check):
    """Item 226: ``lazy_manager.build_item(1)`` on a project proxy whose ``__getattr__``
    forwards to another object: the call is one on an object of unknown type, matched to
    the project's only ``build_item`` (a guess, so ``likely``)."""
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def notify(x):
                return x
            """,
            "app/managers.py": """
            from app.tasks import notify

            class Manager:
                def build_item(self, x):
                    notify.delay(x)

            class Lazy:
                def __init__(self, cls):
                    self.cls, self._inst = cls, None

                def __getattr__(self, name):
                    if self._inst is None:
                        self._inst = self.cls()
                    return getattr(self._inst, name)

            lazy_manager = Lazy(Manager)
            """,
            "app/views.py": """
            from django.http import HttpResponse
            from app.managers import lazy_manager

            def create_view(request):
                lazy_manager.build_item(1)
                return HttpResponse("ok")
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [path("create/", views.create_view)]
            """,
        },
        {"create_view": ("offloaded", False)},
    )
    assert report.endpoints[0].confidence == "likely"


def test_saving_a_row_read_from_the_database_does_not_create(check):
    """Item 227: a receiver that enqueues only for created rows does not run its enqueue
    for a row read with ``get_object_or_404`` or ``objects.get`` and saved; it does for a
    row made in the request."""
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def push(pk):
                return pk
            """,
            "app/models.py": """
            from django.db import models
            from django.db.models.signals import post_save
            from django.dispatch import receiver
            from app.tasks import push

            class Notification(models.Model):
                is_read = models.BooleanField(default=False)

            @receiver(post_save, sender=Notification)
            def on_notification(sender, instance, created, **kwargs):
                if not created:
                    return
                push.delay(instance.pk)
            """,
            "app/views.py": """
            from django.http import HttpResponse
            from django.shortcuts import get_object_or_404
            from app.models import Notification

            def mark_read(request, pk):
                note = get_object_or_404(Notification, pk=pk)
                note.is_read = True
                note.save()
                return HttpResponse("ok")

            def mark_unread(request, pk):
                note = Notification.objects.get(pk=pk)
                note.is_read = False
                note.save()
                return HttpResponse("ok")

            def new(request):
                note = Notification()
                note.save()
                return HttpResponse("ok")
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [
                path("r/<int:pk>", views.mark_read),
                path("u/<int:pk>", views.mark_unread),
                path("n", views.new),
            ]
            """,
        },
        {
            "mark_read": ("inline", False),
            "mark_unread": ("inline", False),
            "new": ("offloaded", False),
        },
    )


def test_a_loop_over_a_module_level_list_of_objects(check):
    """Item 228: ``for sink in EVENT_SINKS`` over a module-level list of instances calls
    each class's ``handle_event``; a list whose objects do nothing in the background keeps
    the route inline."""
    check(
        {
            "app/__init__.py": "",
            "app/sinks.py": """
            import asyncio

            class WebhookSink:
                async def handle_event(self, event):
                    asyncio.create_task(self.post(event))

                async def post(self, event):
                    return event

            class LogSink:
                async def handle_event(self, event):
                    print(event)

            class CountSink:
                async def handle_event(self, event):
                    return 1

            EVENT_SINKS = [WebhookSink(), LogSink()]
            QUIET_SINKS = [LogSink(), CountSink()]

            async def publish_event(event):
                for sink in EVENT_SINKS:
                    await sink.handle_event(event)

            async def publish_quietly(event):
                for sink in QUIET_SINKS:
                    await sink.handle_event(event)
            """,
            "app/main.py": """
            from fastapi import FastAPI
            from app.sinks import publish_event, publish_quietly

            app = FastAPI()

            @app.post("/chat")
            async def chat():
                await publish_event({"x": 1})
                return {}

            @app.post("/quiet")
            async def quiet():
                await publish_quietly({"x": 1})
                return {}
            """,
        },
        {"chat": ("inprocess_background", False), "quiet": ("inline", False)},
    )


def test_a_method_picked_by_a_computed_name_is_said(check):
    """Item 230: ``getattr(component, method)(request)`` with ``method`` from a table is a
    call the audit lists as unresolved, not one it drops; a getattr with a literal name is
    the method itself."""
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def push_task(pk):
                return pk
            """,
            "app/models.py": """
            from django.db import models
            from app.tasks import push_task

            class Component(models.Model):
                def do_push(self, request):
                    push_task.delay(self.pk)

                def do_cleanup(self, request):
                    return 1
            """,
            "app/views.py": """
            from django.http import JsonResponse
            from django.shortcuts import get_object_or_404
            from app.models import Component

            OPERATIONS = {"push": "do_push", "cleanup": "do_cleanup"}

            def repository(request, pk):
                component = get_object_or_404(Component, pk=pk)
                method = OPERATIONS[request.POST["operation"]]
                return JsonResponse({"result": getattr(component, method)(request)})

            def push(request, pk):
                component = get_object_or_404(Component, pk=pk)
                return JsonResponse({"result": getattr(component, "do_push")(request)})
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [path("r/<int:pk>", views.repository), path("p/<int:pk>", views.push)]
            """,
        },
        {"repository": ("inline", False), "push": ("offloaded", False)},
    )
    (picked,) = [e for e in report.endpoints if e.handler == "repository"]
    assert picked.confidence == "likely"
    assert [(u.call, u.reason) for u in picked.unresolved_calls] == [
        (
            "getattr(component, method)(request)",
            "a method of the project's class picked by a name computed at run time",
        )
    ]


def test_a_manager_made_from_a_queryset(check):
    """Item 231: ``objects = CommentManager.from_queryset(CommentQuerySet)()`` answers the
    manager's methods and the QuerySet's; a method neither defines stays Django's."""
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def notify(pk):
                return pk
            """,
            "app/models.py": """
            from django.db import models
            from app.tasks import notify

            class CommentQuerySet(models.QuerySet):
                def flag_all(self):
                    notify.delay(1)

            class CommentManager(models.Manager):
                def add(self, text):
                    notify.delay(text)

            class Comment(models.Model):
                objects = CommentManager.from_queryset(CommentQuerySet)()
            """,
            "app/views.py": """
            from django.http import HttpResponse
            from app.models import Comment

            def comment(request):
                Comment.objects.add("x")
                return HttpResponse("ok")

            def flag(request):
                Comment.objects.flag_all()
                return HttpResponse("ok")

            def count(request):
                return HttpResponse(str(Comment.objects.count()))
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [path("c", views.comment), path("f", views.flag), path("n", views.count)]
            """,
        },
        {
            "comment": ("offloaded", False),
            "flag": ("offloaded", False),
            "count": ("inline", False),
        },
    )
