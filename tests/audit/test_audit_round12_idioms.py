"""Framework idioms a round-12 spot check found read wrong (PATTERNS.md items 88-94).
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def reindex(pk):
        return pk
"""


def test_patch_runs_the_viewset_s_own_update(check):
    """Item 88: DRF's ``partial_update`` is ``self.update(..., partial=True)``, so an
    ``update()`` override runs on PATCH as on PUT; a viewset without one stays inline."""
    check(
        {
            "tasks.py": TASKS,
            "views.py": """
            from rest_framework import viewsets
            from tasks import reindex

            class EntryViewSet(viewsets.ModelViewSet):
                def update(self, request, *args, **kwargs):
                    response = super().update(request, *args, **kwargs)
                    reindex.delay(kwargs["pk"])
                    return response

            class NoteViewSet(viewsets.ModelViewSet):
                pass
            """,
            "urls.py": """
            from rest_framework.routers import DefaultRouter
            from views import EntryViewSet, NoteViewSet

            router = DefaultRouter()
            router.register("entries", EntryViewSet)
            router.register("notes", NoteViewSet)
            urlpatterns = router.urls
            """,
        },
        {
            "EntryViewSet.update": ("offloaded", False),
            "EntryViewSet.partial_update": ("offloaded", False),
            "NoteViewSet.update": ("inline", False),
            "NoteViewSet.partial_update": ("inline", False),
            "EntryViewSet.create": ("inline", False),
            "EntryViewSet.destroy": ("inline", False),
            "EntryViewSet.list": ("inline", False),
            "EntryViewSet.retrieve": ("inline", False),
            "NoteViewSet.create": ("inline", False),
            "NoteViewSet.destroy": ("inline", False),
            "NoteViewSet.list": ("inline", False),
            "NoteViewSet.retrieve": ("inline", False),
        },
    )


POOL = """
    from concurrent.futures import ThreadPoolExecutor, wait

    import requests

    executor = ThreadPoolExecutor(max_workers=8)

    def call_model(prompt):
        return requests.post("https://llm.example.com/complete", json={"p": prompt}).json()
"""


def test_futures_collected_and_waited_in_comprehensions_are_inline(check):
    """Item 89: futures made in a comprehension and waited for in another, or appended to
    ``self.futures`` that a sibling method the request runs waits for, are the request's
    own work; futures nobody waits for are in-process background."""
    check(
        {
            "pool.py": POOL,
            "runner.py": """
            from pool import call_model, executor, wait

            def run_all(prompts):
                futures = [executor.submit(call_model, p) for p in prompts]
                return [f.result() for f in futures]

            def fire_all(prompts):
                futures = [executor.submit(call_model, p) for p in prompts]
                return len(futures)

            class Runner:
                def __init__(self, prompts):
                    self.prompts = prompts
                    self.futures = []

                def start(self):
                    for p in self.prompts:
                        future = executor.submit(call_model, p)
                        self.futures.append(future)

                def settle(self):
                    wait(self.futures)

                def run(self):
                    self.start()
                    self.settle()
                    return "done"

                def launch(self):
                    self.start()
                    return "started"
            """,
            "app.py": """
            from flask import Flask
            from runner import Runner, fire_all, run_all

            app = Flask(__name__)

            @app.post("/all")
            def complete_all():
                return run_all(["a", "b"])

            @app.post("/fire")
            def fire():
                return str(fire_all(["a", "b"]))

            @app.post("/run")
            def run():
                return Runner(["a"]).run()

            @app.post("/launch")
            def launch():
                return Runner(["a"]).launch()
            """,
        },
        {
            "complete_all": ("inline", True),
            "fire": ("inprocess_background", False),
            "run": ("inline", False),
            "launch": ("inprocess_background", False),
        },
    )


def test_a_thread_hosting_an_event_loop_is_a_bridge_not_background(check):
    """Item 90: a daemon thread started to run an event loop forever does no work of its
    own; a coroutine handed to it with ``run_coroutine_threadsafe`` is the request's work
    where the request waits for the result, and in-process background where it does not.
    A thread with a real target stays background."""
    check(
        {
            "bridge.py": """
            import asyncio
            import threading

            from pages import fetch

            _loop = None

            def _serve():
                global _loop
                _loop = asyncio.new_event_loop()
                _loop.run_forever()

            def _ensure():
                threading.Thread(target=_serve, daemon=True).start()

            def run_sync(coro):
                _ensure()
                return asyncio.run_coroutine_threadsafe(coro, _loop).result()

            class Loop:
                def __init__(self):
                    self.loop = asyncio.new_event_loop()
                    threading.Thread(target=self.loop.run_forever, daemon=True).start()

                def fire(self, url):
                    asyncio.run_coroutine_threadsafe(fetch(url), self.loop)
            """,
            "pages.py": """
            import time

            async def fetch(url):
                time.sleep(1)
                return url
            """,
            "app.py": """
            import threading

            from flask import Flask
            from bridge import Loop, run_sync
            from pages import fetch

            app = Flask(__name__)

            def crunch():
                return 1

            @app.get("/render")
            def render():
                return run_sync(fetch("https://example.com"))

            @app.post("/warm")
            def warm():
                Loop().fire("https://example.com")
                return "queued"

            @app.post("/crunch")
            def start_crunch():
                threading.Thread(target=crunch).start()
                return "started"
            """,
        },
        {
            "render": ("inline", True),
            "warm": ("inprocess_background", False),
            "start_crunch": ("inprocess_background", False),
        },
    )


def test_library_views_routed_in_a_urlconf_are_endpoints(run_audit):
    """Item 91: a route a library's view serves is an endpoint of the URLconf's line,
    inline and ``likely`` (its code is not read), with a note naming the view; a library's
    URL set (``admin.site.urls``) is not one view, and a view missing from a project
    package is still said not to be found."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/settings.py": 'ROOT_URLCONF = "app.urls"\n',
            "app/views.py": """
            def home(request):
                return None
            """,
            "app/urls.py": """
            from django.contrib import admin
            from django.contrib.auth import views as auth_views
            from django.urls import path
            from django.views.generic import TemplateView
            from rest_framework_simplejwt.views import TokenRefreshView

            from app import views
            from app.missing import Gone

            urlpatterns = [
                path("", views.home),
                path("about/", TemplateView.as_view(template_name="about.html")),
                path("password/done/", auth_views.PasswordResetDoneView.as_view()),
                path("token/refresh/", TokenRefreshView.as_view()),
                path("admin/", admin.site.urls),
                path("gone/", Gone.as_view()),
            ]
            """,
        }
    )
    found = sorted(
        (e.file, e.line, e.handler, e.route, e.status, e.confidence) for e in report.endpoints
    )
    assert found == [
        ("app/urls.py", 12, "TemplateView", "/about/", "inline", "likely"),
        ("app/urls.py", 13, "PasswordResetDoneView", "/password/done/", "inline", "likely"),
        ("app/urls.py", 14, "TokenRefreshView", "/token/refresh/", "inline", "likely"),
        ("app/views.py", 1, "home", "/", "inline", "certain"),
    ]
    library = next(e for e in report.endpoints if e.handler == "TemplateView")
    assert "django.views.generic.TemplateView" in library.route_note
    assert [(u.line, u.reason) for u in report.unrecognized] == [(16, "view not found")]


def test_a_decorator_argument_names_a_function_of_the_class_body(check):
    """Item 96: ``@after(post_function=hook)`` on a method passes the ``hook`` defined
    above it in the same class body (class-body names are in scope there), by keyword or
    by position; a module-level function of the same name is not the one passed."""
    hooks = """
    def after(post_function):
        def inner(func):
            def run(*args, **kwargs):
                result = func(*args, **kwargs)
                return post_function(*result)
            return run
        return inner
    """
    services = """
    from hooks import after
    from tasks import reindex

    def on_saved(pk):
        return pk

    class Documents:
        @staticmethod
        def on_saved(pk):
            reindex.delay(pk)

        @after(post_function=on_saved)
        def save(self, data):
            return (data["id"],)

        @after(on_saved)
        def save_again(self, data):
            return (data["id"],)

    class Notes:
        @after(post_function=on_saved)
        def save(self, data):
            return (data["id"],)
    """
    app = """
    from flask import Flask, request
    from services import Documents, Notes

    app = Flask(__name__)

    @app.post("/documents")
    def add_document():
        Documents().save(request.json)
        return "ok"

    @app.post("/documents/again")
    def add_again():
        Documents().save_again(request.json)
        return "ok"

    @app.post("/notes")
    def add_note():
        Notes().save(request.json)
        return "ok"
    """
    check(
        {"tasks.py": TASKS, "hooks.py": hooks, "services.py": services, "app.py": app},
        {
            "add_document": ("offloaded", False),
            "add_again": ("offloaded", False),
            "add_note": ("inline", False),
        },
    )


def test_a_method_picked_by_a_computed_name_on_self(check):
    """Item 92: ``getattr(self, f"{mode}_sync")()`` or ``self.__getattribute__(mode +
    "_sync")()`` may run any method of the class (or a base) whose name fits: the dispatch
    one of them makes is possible (``likely``); with no method that fits, the call is listed
    as one the audit could not resolve, not dropped."""
    services = """
    from tasks import reindex

    class BaseSync:
        def full_sync(self):
            reindex.delay(1)

    class SiteSync(BaseSync):
        def replace_sync(self):
            return 2

        def sync(self, mode):
            return getattr(self, f"{mode}_sync")()

        def sync_by_name(self, mode):
            return self.__getattribute__(mode + "_sync")()

        def check(self, field):
            return getattr(self, f"_check_{field}_changed")()

    class Plain:
        def _other(self):
            reindex.delay(3)

        def run(self, mode):
            return getattr(self, f"{mode}_job")()
    """
    app = """
    from flask import Flask, request
    from services import Plain, SiteSync

    app = Flask(__name__)

    @app.put("/sync")
    def sync():
        return SiteSync().sync(request.args["mode"])

    @app.put("/sync-by-name")
    def sync_by_name():
        return SiteSync().sync_by_name(request.args["mode"])

    @app.put("/check")
    def check():
        return SiteSync().check(request.args["field"])

    @app.put("/plain")
    def plain():
        return Plain().run(request.args["mode"])
    """
    report = check(
        {"tasks.py": TASKS, "services.py": services, "app.py": app},
        {
            "sync": ("offloaded", False),
            "sync_by_name": ("offloaded", False),
            "check": ("inline", False),
            "plain": ("inline", False),
        },
    )
    by_handler = {e.handler: e for e in report.endpoints}
    assert by_handler["sync"].confidence == "likely"
    assert [u.call for u in by_handler["check"].unresolved_calls] == [
        'getattr(self, f"_check_{field}_changed")()'
    ]
    assert by_handler["check"].confidence == "likely"
    assert by_handler["plain"].confidence == "likely"


def test_a_callable_instance_connected_as_a_receiver_runs_its_call(check):
    """Item 97: ``post_save.connect(Notifier())`` (or an instance kept in a local first)
    runs the instance's ``__call__`` on every save of the sender; an instance of a class
    without ``__call__`` connects nothing the audit can follow."""
    check(
        {
            "tasks.py": TASKS,
            "app/__init__.py": "",
            "app/models.py": """
            from django.db import models

            class Entry(models.Model):
                name = models.CharField(max_length=10)

            class Note(models.Model):
                name = models.CharField(max_length=10)
            """,
            "app/receivers.py": """
            from tasks import reindex

            class Notifier:
                def __call__(self, sender, instance, **kwargs):
                    reindex.delay(instance.pk)

            class Inert:
                def run(self, sender, instance, **kwargs):
                    reindex.delay(instance.pk)
            """,
            "app/apps.py": """
            from django.apps import AppConfig
            from django.db.models.signals import post_save

            class EntriesConfig(AppConfig):
                name = "app"

                def ready(self):
                    from app.models import Entry, Note
                    from app.receivers import Inert, Notifier

                    handler = Notifier()
                    post_save.connect(handler, sender=Entry)
                    post_save.connect(Inert(), sender=Note)
            """,
            "app/views.py": """
            from app.models import Entry, Note

            def add_entry(request):
                Entry.objects.create(name="x")

            def add_note(request):
                Note.objects.create(name="x")
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [path("entries/", views.add_entry), path("notes/", views.add_note)]
            """,
        },
        {"add_entry": ("offloaded", False), "add_note": ("inline", False)},
    )


def test_a_class_passed_to_a_type_annotated_parameter(check):
    """Item 99: ``def setup(loader_cls: typing.Type[Loader])`` is given a class; the one
    the caller passes is the one whose methods run, as with ``type[Loader]``."""
    loaders = """
    import typing

    import requests

    class Loader:
        def process(self, data):
            return data

    class OrgLoader(Loader):
        def process(self, data):
            return requests.post("http://embedder/org", json=data)

    def setup(loader_cls: typing.Type[Loader], data):
        return loader_cls().process(data)

    def setup_builtin(loader_cls: type[Loader], data):
        return loader_cls().process(data)
    """
    app = """
    from fastapi import FastAPI
    from loaders import Loader, OrgLoader, setup, setup_builtin

    app = FastAPI()

    @app.post("/index")
    def index(data: dict):
        return setup(OrgLoader, data)

    @app.post("/index-builtin")
    def index_builtin(data: dict):
        return setup_builtin(OrgLoader, data)

    @app.post("/plain")
    def plain(data: dict):
        return setup(Loader, data)
    """
    check(
        {"loaders.py": loaders, "app.py": app},
        {"index": ("inline", True), "index_builtin": ("inline", True), "plain": ("inline", False)},
    )


def test_service_sdks_and_document_parsers_are_heavy(check):
    """Item 100: a payment, messaging or identity SDK call is a network request; parsing a
    whole PDF is file work. Reading a setting of the SDK is neither."""
    app = """
    import apprise
    import fitz
    import resend
    import stripe
    from fastapi import FastAPI
    from google.oauth2 import id_token
    from langchain_community.document_loaders import PyMuPDFLoader
    from pypdf import PdfReader
    from twilio.rest import Client

    app = FastAPI()

    @app.post("/subscribe")
    def subscribe(customer: str):
        return stripe.Subscription.modify(customer, cancel_at_period_end=False)

    @app.post("/otp")
    def otp(phone: str):
        return Client("sid", "token").verify.v2.services("x").verifications.create(to=phone)

    @app.post("/mail")
    def mail(to: str):
        return resend.Emails.send({"to": to})

    @app.post("/login")
    def login(token: str):
        return id_token.verify_oauth2_token(token, None)

    @app.post("/notify")
    def notify(body: str):
        return apprise.Apprise().notify(body=body)

    @app.post("/pdf")
    def pdf(path: str):
        return [len(PdfReader(path).pages), fitz.open(path), PyMuPDFLoader(path).load()]

    @app.get("/key")
    def key():
        return stripe.api_key
    """
    check(
        {"app.py": app},
        {
            "subscribe": ("inline", True),
            "otp": ("inline", True),
            "mail": ("inline", True),
            "login": ("inline", True),
            "notify": ("inline", True),
            "pdf": ("inline", True),
            "key": ("inline", False),
        },
    )


def test_an_executor_chosen_with_or_is_the_module_s_pool(check):
    """Item 94: ``(executor or POOL).submit(f)``, the parameter unknown and ``POOL`` a
    module's executor, hands ``f`` to the pool; ``POOL.submit`` already did."""
    app = """
    import time
    from concurrent.futures import ThreadPoolExecutor

    from flask import Flask

    app = Flask(__name__)
    POOL = ThreadPoolExecutor(max_workers=3)

    def slow(item_id):
        time.sleep(30)

    def start(item_id, executor=None):
        return (executor or POOL).submit(slow, item_id)

    @app.post("/start/<item_id>")
    def start_direct(item_id):
        start(item_id)
        return "started", 202

    @app.post("/start-plain/<item_id>")
    def start_plain(item_id):
        POOL.submit(slow, item_id)
        return "started", 202
    """
    check(
        {"app.py": app},
        {
            "start_direct": ("inprocess_background", False),
            "start_plain": ("inprocess_background", False),
        },
    )


def test_a_project_class_only_subclassing_a_library_view(run_audit):
    """Item 101: ``class Docs(LoginRequiredMixin, SpectacularRedocView)`` answers with the
    library view's methods: an endpoint at the class, inline and ``likely``, not a
    registration the audit could not understand."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/settings.py": 'ROOT_URLCONF = "app.urls"\n',
            "app/views.py": """
            from django.contrib.auth.mixins import LoginRequiredMixin
            from drf_spectacular.views import SpectacularRedocView
            from rest_framework import viewsets

            class Docs(LoginRequiredMixin, SpectacularRedocView):
                pass

            class Helper(LoginRequiredMixin):
                pass

            class Bare(viewsets.GenericViewSet):
                pass
            """,
            "app/urls.py": """
            from django.urls import path
            from app.views import Bare, Docs, Helper

            urlpatterns = [
                path("docs/", Docs.as_view(url_name="schema")),
                path("helper/", Helper.as_view()),
                path("bare/", Bare.as_view()),
            ]
            """,
        }
    )
    assert [(e.file, e.line, e.handler, e.route, e.confidence) for e in report.endpoints] == [
        ("app/views.py", 5, "Docs", "/docs/", "likely")
    ]
    assert "drf_spectacular.views.SpectacularRedocView" in report.endpoints[0].route_note
    assert [u.line for u in report.unrecognized] == [6, 7]


def test_a_returned_handle_the_caller_reads_without_waiting(check):
    """Item 98: a helper that returns a task, future or job leaves it running when the
    caller only reads it (``job.id``, ``fut.done()``); awaiting it, returning it or putting
    it in a list that is gathered stays the caller's wait."""
    jobs = """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor()

    def crunch():
        return 1

    def start():
        return pool.submit(crunch)

    def start_task():
        return asyncio.create_task(asyncio.sleep(1))
    """
    app = """
    import asyncio

    from fastapi import FastAPI
    from jobs import start, start_task

    app = FastAPI()

    @app.post("/read")
    def read():
        fut = start()
        return {"done": fut.done()}

    @app.post("/wait")
    def wait():
        fut = start()
        return {"value": fut.result()}

    @app.post("/gather")
    async def gather():
        tasks = []
        task = start_task()
        tasks.append(task)
        await asyncio.gather(*tasks)
        return {}

    @app.post("/name")
    async def name():
        task = start_task()
        return {"name": task.get_name()}
    """
    check(
        {"jobs.py": jobs, "app.py": app},
        {
            "read": ("inprocess_background", False),
            "wait": ("inline", False),
            "gather": ("inline", False),
            "name": ("inprocess_background", False),
        },
    )
