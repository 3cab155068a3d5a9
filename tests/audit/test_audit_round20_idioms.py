"""Shapes round 20 found read wrong (PATTERNS.md items 232-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations

MODELS = """
from django.db import models
from shop.tasks import ping


class Hook(models.Model):
    def notify(self):
        ping.delay(self.pk)


class Note(models.Model):
    def notify(self):
        return self.pk
"""
TASKS = """
from celery import shared_task


@shared_task
def ping(pk):
    return pk
"""


def test_an_element_of_a_returned_tuple_is_what_the_function_returns_there(check):
    """Item 232: ``x, y = helper()`` binds ``x`` to element 0 of the helper's ``return a, b``
    (or of its ``tuple[A, B]`` annotation), on functions and methods; a task picked that way
    is the task. The other class's ``notify`` does nothing, so a wrong element would show."""
    report = check(
        {
            "shop/models.py": MODELS,
            "shop/tasks.py": TASKS,
            "shop/helpers.py": """
            from shop.models import Hook, Note
            from shop.tasks import ping


            def make_hook(url):
                hook = Hook(url=url)
                return hook, True


            def make_note():
                return Note(), False


            def declared(url) -> tuple[Hook, bool]:
                return lookup(url)


            def lookup(url):
                return None


            def pick(kind):
                return ping, (kind,)
            """,
            "shop/views.py": """
            from django.http import JsonResponse
            from django.views import View
            from shop.helpers import declared, make_hook, make_note, pick
            from shop.models import Hook, Note


            def hooked(request):
                hook, created = make_hook(request.POST["url"])
                hook.notify()
                return JsonResponse({})


            def noted(request):
                note, created = make_note()
                note.notify()
                return JsonResponse({})


            def annotated(request):
                hook, _ = declared("x")
                hook.notify()
                return JsonResponse({})


            def picked(request):
                task, args = pick("a")
                task.delay(*args)
                return JsonResponse({})


            class Pair(View):
                def pair(self):
                    return Note(), Hook()

                def post(self, request):
                    first, second = self.pair()
                    first.notify()
                    return JsonResponse({})

                def put(self, request):
                    first, second = self.pair()
                    second.notify()
                    return JsonResponse({})
            """,
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [
                path("h", views.hooked),
                path("n", views.noted),
                path("a", views.annotated),
                path("p", views.picked),
                path("pair", views.Pair.as_view()),
            ]
            """,
        },
        {
            "hooked": ("offloaded", False),
            "noted": ("inline", False),
            "annotated": ("offloaded", False),
            "picked": ("offloaded", False),
            "Pair.post": ("inline", False),
            "Pair.put": ("offloaded", False),
        },
    )
    assert {e.confidence for e in report.endpoints} == {"certain"}


def test_an_element_of_a_tuple_nothing_describes_stays_unknown(check):
    """Item 232, negative: the elements of a library call's tuple, and a starred target,
    are not known, so the method is still matched by its name (a guess, ``likely``)."""
    report = check(
        {
            "shop/models.py": MODELS,
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            import os
            from django.http import JsonResponse
            from shop.models import Hook, Note


            def both():
                return Note(), Hook()


            def library(request):
                head, tail = os.path.split(request.path)
                head.notify()
                return JsonResponse({})


            def starred(request):
                first, *rest = both()
                first.notify()
                return JsonResponse({})
            """,
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("l", views.library), path("s", views.starred)]
            """,
        },
        {"library": ("offloaded", False), "starred": ("offloaded", False)},
    )
    assert {e.confidence for e in report.endpoints} == {"likely"}


RECEIVED = """
from django.db import models
from django.db.models.signals import post_save
from shop.tasks import ping


class Item(models.Model):
    name = models.CharField(max_length=10)
    unfiltered = models.Manager()


class Plain(models.Model):
    name = models.CharField(max_length=10)
    unfiltered = models.Manager()


def reindex(sender, instance, **kwargs):
    ping.delay(instance.pk)


post_save.connect(reindex, sender=Item)
"""


def urls(*names: str) -> str:
    """A URLconf routing each view of shop/views.py by its name."""
    rows = "".join(f'    path("{name}/", views.{name}),\n' for name in names)
    return f"from django.urls import path\nfrom shop import views\n\nurlpatterns = [\n{rows}]\n"


def test_a_local_bound_inside_a_try_or_an_if_is_unknown_to_later_guards(check):
    """Item 233: ``author`` bound in ``try`` and ``except`` (or in an ``if`` arm, or a loop)
    may hold either value after it, so a guard on it and on an argument the caller passes
    as a literal does not rule the dispatch out. A local bound once, before the guard,
    still does; so does one rebound after the ``try`` at the function's own level."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            from django.http import HttpResponse
            from shop.tasks import ping

            def _tried(obj, version):
                try:
                    author = obj.authors.all()[0]
                except IndexError:
                    author = None
                if not version and author:
                    ping.delay(author.pk)
                return HttpResponse()


            def _armed(obj, version):
                author = obj.authors.first()
                if obj.hidden:
                    author = None
                if not version and author:
                    ping.delay(author.pk)
                return HttpResponse()


            def _looped(obj, version):
                author = obj.authors.first()
                for row in obj.blocked.all():
                    author = None
                if not version and author:
                    ping.delay(author.pk)
                return HttpResponse()


            def _plain(obj, version):
                author = None
                if not version and author:
                    ping.delay(1)
                return HttpResponse()


            def _rebound(obj, version):
                try:
                    author = obj.authors.all()[0]
                except IndexError:
                    author = obj
                author = None
                if not version and author:
                    ping.delay(1)
                return HttpResponse()


            def tried(request):
                return _tried(request.user, None)


            def armed(request):
                return _armed(request.user, None)


            def looped(request):
                return _looped(request.user, None)


            def plain(request):
                return _plain(request.user, None)


            def rebound(request):
                return _rebound(request.user, None)
            """,
            "shop/urls.py": urls("tried", "armed", "looped", "plain", "rebound"),
        },
        {
            "tried": ("offloaded", False),
            "armed": ("offloaded", False),
            "looped": ("offloaded", False),
            "plain": ("inline", False),
            "rebound": ("inline", False),
        },
    )


def test_the_shortcut_given_a_manager_and_a_manager_under_another_name(check):
    """Items 234 and 235: ``get_object_or_404(Item.objects, ...)`` hands back an ``Item``,
    whose ``save()`` fires its receiver; ``Item.unfiltered`` (Django's ``Manager()`` under
    another name) writes ``Item`` rows as ``Item.objects`` does. The same on a model with no
    receiver stays inline."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/models.py": RECEIVED,
            "shop/views.py": """
            from django.http import HttpResponse
            from django.shortcuts import get_object_or_404
            from shop.models import Item, Plain

            def fetched(request, pk=1):
                item = get_object_or_404(Item.objects, pk=pk)
                item.save()
                return HttpResponse()


            def fetched_plain(request, pk=1):
                item = get_object_or_404(Plain.objects, pk=pk)
                item.save()
                return HttpResponse()


            def unfiltered(request, pk=1):
                Item.unfiltered.update_or_create(pk=pk, defaults={"name": "y"})
                return HttpResponse()


            def unfiltered_plain(request, pk=1):
                Plain.unfiltered.update_or_create(pk=pk, defaults={"name": "y"})
                return HttpResponse()
            """,
            "shop/urls.py": urls("fetched", "fetched_plain", "unfiltered", "unfiltered_plain"),
        },
        {
            "fetched": ("offloaded", False),
            "fetched_plain": ("inline", False),
            "unfiltered": ("offloaded", False),
            "unfiltered_plain": ("inline", False),
        },
    )


def test_an_eager_setting_in_a_management_command_is_not_the_web_s(check):
    """Item 236: ``override_settings(CELERY_ALWAYS_EAGER=True)`` in a management command
    does not make the web's tasks run inline; the same setting in the settings module
    still does, and is shown."""
    files = {
        "shop/tasks.py": TASKS,
        "shop/management/commands/seed.py": """
        from django.core.management.base import BaseCommand
        from django.test.utils import override_settings


        class Command(BaseCommand):
            def handle(self, *args, **options):
                with override_settings(CELERY_ALWAYS_EAGER=True):
                    pass
        """,
        "shop/views.py": """
        from django.http import HttpResponse
        from shop.tasks import ping


        def queued(request):
            ping.delay(1)
            return HttpResponse()
        """,
        "shop/urls.py": urls("queued"),
    }
    report = check(files, {"queued": ("offloaded", False)})
    assert [e.kind for e in report.endpoints[0].evidence] == ["dispatch"]
    files["shop/settings.py"] = "CELERY_TASK_ALWAYS_EAGER = True\n"
    report = check(files, {"queued": ("offloaded", False)})
    eager = [e for e in report.endpoints[0].evidence if e.kind == "eager_mode"]
    assert [(e.file, e.line) for e in eager] == [("shop/settings.py", 1)]


def test_a_lambda_view_is_reported_as_not_understood(check):
    """Item 237: ``path("old/", lambda request: redirect("/"))`` is a route whose view the
    audit does not read: listed among the registrations not understood, not dropped."""
    report = check(
        {
            "shop/views.py": """
            from django.http import HttpResponse


            def home(request):
                return HttpResponse()
            """,
            "shop/urls.py": """
            from django.shortcuts import redirect
            from django.urls import path
            from shop import views

            urlpatterns = [
                path("", views.home),
                path("old/", lambda request: redirect("/")),
            ]
            """,
        },
        {"home": ("inline", False)},
    )
    assert [(u.file, u.line, u.reason) for u in report.unrecognized] == [
        ("shop/urls.py", 7, "a lambda as the view: its body is not read")
    ]


ENGINES = """
from enum import Enum

import requests


def translate(text):
    return requests.post("https://mt.example/", data={"q": text}).text


def echo(text):
    return text


class Engine(Enum):
    REMOTE = "remote"
    LOCAL = "local"

    @property
    def service(self):
        return translate


class Local(Enum):
    ONLY = "only"

    @property
    def service(self):
        return echo
"""


def test_a_value_chosen_against_none_and_an_enum_member(check):
    """Items 238 and 239: ``engine if engine.ready else None`` kept on ``self`` is still the
    annotated parameter, and ``Engine.REMOTE`` is an ``Engine``, so the property each reads
    hands back the function that posts (heavy). The same on an Enum whose property hands
    back a plain function stays light."""
    check(
        {
            "shop/engines.py": ENGINES,
            "shop/views.py": """
            from django.http import JsonResponse
            from shop.engines import Engine, Local


            class Walker:
                def __init__(self, text, engine: Engine | None = None):
                    self.text = text
                    self.engine = engine if engine is not None and engine.value else None

                def run(self):
                    if self.engine is not None:
                        return self.engine.service(self.text)
                    return self.text


            def chosen(request):
                return JsonResponse({"t": Walker(request.GET["q"]).run()})


            def member(request):
                return JsonResponse({"t": Engine.REMOTE.service(request.GET["q"])})


            def local_member(request):
                return JsonResponse({"t": Local.ONLY.service(request.GET["q"])})
            """,
            "shop/urls.py": urls("chosen", "member", "local_member"),
        },
        {
            "chosen": ("inline", True),
            "member": ("inline", True),
            "local_member": ("inline", False),
        },
    )


def test_a_class_loaded_by_invenio_s_or_werkzeug_s_loader(check):
    """Item 240: ``obj_or_import_string(<path from config>)()`` is an object of unknown
    type: its ``index()`` is matched by name (the project's only ``index``, which enqueues:
    a guess, ``likely``); a literal ``"pkg.mod:Name"`` path is that class exactly."""
    report = check(
        {
            "lib/__init__.py": "",
            "lib/tasks.py": """
            from celery import shared_task


            @shared_task
            def reindex_children(pk):
                return pk
            """,
            "lib/indexers.py": """
            from lib.tasks import reindex_children


            class DocIndexer:
                def index(self, record):
                    reindex_children.delay(record["id"])
            """,
            "lib/views.py": """
            from flask import Blueprint, current_app
            from invenio_base.utils import obj_or_import_string
            from werkzeug.utils import import_string

            bp = Blueprint("docs", __name__)


            @bp.post("/configured/<pid>")
            def configured(pid):
                indexer = obj_or_import_string(current_app.config["INDEXERS"]["doc"])
                indexer().index({"id": pid})
                return "", 204


            @bp.post("/literal/<pid>")
            def literal(pid):
                import_string("lib.indexers:DocIndexer")().index({"id": pid})
                return "", 204
            """,
        },
        {"configured": ("offloaded", False), "literal": ("offloaded", False)},
    )
    confidence = {e.handler: e.confidence for e in report.endpoints}
    assert confidence == {"configured": "likely", "literal": "certain"}


def test_a_method_guessed_by_name_must_accept_the_call(check):
    """Item 241: ``doc.search()`` on a value of unknown type is not the project's only
    ``search(self, term)``, which needs an argument the call does not give, nor is
    ``doc.search(query=...)``, a keyword it does not take: no project method could run, so
    neither brings in that method's HTTP call nor is listed as a project call not
    resolved. Where the call fits, the guess stands, and heavy work reached only through
    it is ``likely``."""
    report = check(
        {
            "app/proxy.py": """
            import requests


            class RemoteProxy:
                def search(self, term):
                    return requests.get("https://x.example/api", params={"q": term}).json()
            """,
            "app/views.py": """
            from flask import Flask, jsonify

            app = Flask(__name__)


            @app.get("/list/<doc>")
            def listing(doc):
                return jsonify(doc.search().execute())


            @app.get("/find/<doc>/<q>")
            def find(doc, q):
                return jsonify(doc.search(q))


            @app.get("/named/<doc>")
            def named(doc):
                return jsonify(doc.search(query="recent"))
            """,
        },
        {"listing": ("inline", False), "find": ("inline", True), "named": ("inline", False)},
    )
    found = {e.handler: e for e in report.endpoints}
    assert {h: e.confidence for h, e in found.items()} == {
        "listing": "certain",
        "find": "likely",
        "named": "certain",
    }
    assert [u.call for u in found["listing"].unresolved_calls] == []


def test_a_viewset_s_rows_come_from_its_getters(check):
    """Items 242 and 243: ``get_object()`` returning ``self.instance`` (an attribute nothing
    sets) first and ``super().get_object()` after, and a viewset with no ``queryset`` whose
    ``get_queryset()`` names the model: ``destroy`` deletes a ``Box``, whose ``delete()``
    enqueues. A viewset of a model without such an override stays inline."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import ping


            class Box(models.Model):
                name = models.CharField(max_length=10)

                def delete(self):
                    ping.delay(self.pk)
                    return super().delete()


            class Tray(models.Model):
                name = models.CharField(max_length=10)
            """,
            "shop/views.py": """
            from rest_framework import serializers, viewsets
            from shop.models import Box, Tray


            class BoxSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Box
                    fields = ["name"]


            class KeptViewSet(viewsets.ModelViewSet):
                serializer_class = BoxSerializer

                def get_queryset(self):
                    return Box.objects.exclude(name="")

                def get_object(self):
                    if hasattr(self, "instance"):
                        return self.instance
                    return super().get_object()


            class PickedViewSet(viewsets.ModelViewSet):
                def get_serializer_class(self):
                    return BoxSerializer if self.action == "list" else BoxSerializer

                def get_queryset(self):
                    return Box.objects.filter(name="a").order_by("-id")


            class TrayViewSet(viewsets.ModelViewSet):
                def get_serializer_class(self):
                    return BoxSerializer

                def get_queryset(self):
                    return Tray.objects.all()
            """,
            "shop/urls.py": """
            from rest_framework.routers import SimpleRouter
            from shop import views

            router = SimpleRouter()
            router.register("kept", views.KeptViewSet, basename="kept")
            router.register("picked", views.PickedViewSet, basename="picked")
            router.register("trays", views.TrayViewSet, basename="trays")
            urlpatterns = router.urls
            """,
        },
        {
            **{
                f"{v}.{a}": ("inline", False)
                for v in ("KeptViewSet", "PickedViewSet", "TrayViewSet")
                for a in ("list", "create", "retrieve", "update", "partial_update", "destroy")
            },
            "KeptViewSet.destroy": ("offloaded", False),
            "PickedViewSet.destroy": ("offloaded", False),
        },
    )


def test_a_url_helper_routes_the_views_it_names_itself(check):
    """Item 244: ``include(plain(views.ItemList))`` where ``plain`` returns path()s for the
    view it is given and for ``views.Other``, which it names itself: both views are routed
    (under the prefix, ``likely``, as a builder's routes are)."""
    report = check(
        {
            "app/views.py": """
            from django.http import HttpResponse
            from django.views.generic import View


            class ItemList(View):
                def get(self, request, *args, **kwargs):
                    return HttpResponse()


            class Other(View):
                def get(self, request, *args, **kwargs):
                    return HttpResponse()
            """,
            "app/urls.py": """
            from django.urls import include, path
            from app import views


            def plain(view):
                return [path("a", view.as_view()), path("b", views.Other.as_view())]


            urlpatterns = [path("plain/", include(plain(views.ItemList)))]
            """,
        },
        {"ItemList.get": ("inline", False), "Other.get": ("inline", False)},
    )
    assert {e.confidence for e in report.endpoints} == {"likely"}


def test_a_method_defined_under_an_if_in_the_class_body(check):
    """Item 245: ``post`` defined under ``if hasattr(settings, ...)`` in the class body is
    a method of the view: routed, and its enqueue seen."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            from django.conf import settings
            from django.http import HttpResponse
            from django.views import View
            from shop.tasks import ping


            class Hook(View):
                if hasattr(settings, "HOOK_KEY"):
                    def post(self, request):
                        ping.delay(1)
                        return HttpResponse("ok")
            """,
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("hook/", views.Hook.as_view())]
            """,
        },
        {"Hook.post": ("offloaded", False)},
    )


def test_a_call_into_a_file_that_does_not_parse_is_listed_unresolved(check):
    """Item 246: a function imported from a project file the audit could not parse (listed
    under skipped) is not a library's: the call is listed as unresolved and the endpoint is
    ``likely``. A call into a file that parses stays certain."""
    report = check(
        {
            "app/broken.py": "def search_related(x):\n    return (x\n",
            "app/ok.py": "def fine(x):\n    return x\n",
            "app/views.py": """
            from django.http import HttpResponse
            from app import broken
            from app.broken import search_related
            from app.ok import fine


            def related(request):
                return HttpResponse(search_related(1))


            def via_module(request):
                return HttpResponse(broken.search_related(1))


            def plain(request):
                return HttpResponse(fine(1))
            """,
            "app/urls.py": """
            from django.urls import path
            from app import views

            urlpatterns = [
                path("r", views.related),
                path("m", views.via_module),
                path("p", views.plain),
            ]
            """,
        },
        {"related": ("inline", False), "via_module": ("inline", False), "plain": ("inline", False)},
    )
    assert [s.file for s in report.skipped] == ["app/broken.py"]
    found = {e.handler: e for e in report.endpoints}
    assert {h: e.confidence for h, e in found.items()} == {
        "related": "likely",
        "via_module": "likely",
        "plain": "certain",
    }
    assert [(u.call, u.reason) for u in found["related"].unresolved_calls] == [
        ("search_related(1)", "in a file of the project the audit could not parse (see skipped)")
    ]


def test_a_drf_finalize_response_override_runs_in_every_request(check):
    """Item 247: DRF hands every response to ``finalize_response``; a mixin overriding it
    to enqueue makes each method of the view offloaded. A view without the mixin stays
    inline."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            from rest_framework.response import Response
            from rest_framework.views import APIView
            from shop.tasks import ping


            class CountingMixin:
                def finalize_response(self, request, response, *args, **kwargs):
                    response = super().finalize_response(request, response, *args, **kwargs)
                    ping.delay(1)
                    return response


            class Counted(CountingMixin, APIView):
                def get(self, request):
                    return Response({})


            class Plain(APIView):
                def get(self, request):
                    return Response({})
            """,
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [
                path("counted/", views.Counted.as_view()),
                path("plain/", views.Plain.as_view()),
            ]
            """,
        },
        {"Counted.get": ("offloaded", False), "Plain.get": ("inline", False)},
    )


def test_django_s_async_save_on_an_unknown_value_is_not_guessed(check):
    """Item 248: ``await obj.asave()`` on a value of unknown type is not matched with the
    one project model overriding ``asave``, as ``obj.save()`` is not; called on that
    model's row, the override runs."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import ping


            class Chart(models.Model):
                name = models.CharField(max_length=10)

                async def asave(self, *args, **kwargs):
                    ping.delay(self.pk)
                    return await super().asave(*args, **kwargs)
            """,
            "shop/views.py": """
            from django.http import HttpResponse
            from shop.models import Chart


            async def untyped(request, obj=None):
                await obj.asave()
                return HttpResponse()


            async def typed(request):
                chart = Chart(name="x")
                await chart.asave()
                return HttpResponse()
            """,
            "shop/urls.py": urls("untyped", "typed"),
        },
        {"untyped": ("inline", False), "typed": ("offloaded", False)},
    )


def test_a_dispatch_method_or_library_callable_passed_to_a_helper_that_calls_it(check):
    """Item 249: ``call_with_retry(ping.delay, 1)`` with ``def call_with_retry(fn, *a):
    return fn(*a)`` enqueues, and ``call_with_retry(requests.get, url)`` makes an HTTP call
    in the request; a plain project function passed the same way runs as itself."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/helpers.py": """
            def call_with_retry(fn, *args):
                return fn(*args)


            def quiet(value):
                return value
            """,
            "shop/views.py": """
            import requests
            from django.http import HttpResponse
            from shop.helpers import call_with_retry, quiet
            from shop.tasks import ping


            def queued(request):
                call_with_retry(ping.delay, 1)
                return HttpResponse()


            def fetched(request):
                call_with_retry(requests.get, "https://x.example/")
                return HttpResponse()


            def plain(request):
                call_with_retry(quiet, 1)
                return HttpResponse()
            """,
            "shop/urls.py": urls("queued", "fetched", "plain"),
        },
        {"queued": ("offloaded", False), "fetched": ("inline", True), "plain": ("inline", False)},
    )


def test_settings_named_pytest_are_test_settings(check):
    """Item 250: ``settings/pytest.py`` making Celery eager is not the web's setting."""
    report = check(
        {
            "shop/tasks.py": TASKS,
            "shop/settings/pytest.py": "CELERY_TASK_ALWAYS_EAGER = True\n",
            "shop/views.py": """
            from django.http import HttpResponse
            from shop.tasks import ping


            def queued(request):
                ping.delay(1)
                return HttpResponse()
            """,
            "shop/urls.py": urls("queued"),
        },
        {"queued": ("offloaded", False)},
    )
    assert [e.kind for e in report.endpoints[0].evidence] == ["dispatch"]


def test_a_redirect_view_runs_its_get_redirect_url(check):
    """Item 251: Django's ``RedirectView.get`` calls ``get_redirect_url``: a project
    override that enqueues makes the GET offloaded; one that only builds a URL does not."""
    check(
        {
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            from django.views.generic import RedirectView
            from shop.tasks import ping


            class AddToCart(RedirectView):
                def get_redirect_url(self, *args, **kwargs):
                    ping.delay(1)
                    return "/cart/"


            class Moved(RedirectView):
                def get_redirect_url(self, *args, **kwargs):
                    return "/new/"
            """,
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [
                path("cart/add/", views.AddToCart.as_view()),
                path("old/", views.Moved.as_view()),
            ]
            """,
        },
        {"AddToCart.get": ("offloaded", False), "Moved.get": ("inline", False)},
    )


def test_a_class_member_in_a_test_is_not_a_setting(check):
    """Item 252: ``kind == Event.Kind.DELETED`` compares request data with a class's member:
    the dispatch under it is certain, with no setting guard; ``settings.QUEUE_ON`` still is
    a setting (``likely``, the guard shown)."""
    report = check(
        {
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            from django.conf import settings
            from django.db import models
            from django.http import HttpResponse
            from shop.tasks import ping


            class Event(models.Model):
                class Kind(models.TextChoices):
                    DELETED = "deleted"


            def member(request):
                if request.GET["k"] == Event.Kind.DELETED:
                    ping.delay(1)
                return HttpResponse()


            def setting(request):
                if settings.QUEUE_ON:
                    ping.delay(1)
                return HttpResponse()
            """,
            "shop/urls.py": urls("member", "setting"),
        },
        {"member": ("offloaded", False), "setting": ("offloaded", False)},
    )
    found = {e.handler: e for e in report.endpoints}
    assert [e.kind for e in found["member"].evidence] == ["dispatch"]
    assert found["member"].confidence == "certain"
    assert "setting_guard" in [e.kind for e in found["setting"].evidence]
    assert found["setting"].confidence == "likely"


def test_a_router_filled_in_a_loop_the_audit_cannot_follow_is_reported(check):
    """Item 253: ``router_v4.register(prefix, viewset)`` in a loop over another router's
    ``registry`` is reported as a registration not understood; a helper given literal
    pairs still routes its viewset."""
    report = check(
        {
            "app/views.py": """
            from rest_framework import viewsets


            class AViewSet(viewsets.ViewSet):
                def list(self, request):
                    return None
            """,
            "app/urls.py": """
            from django.urls import include, path
            from rest_framework.routers import DefaultRouter
            from app import views

            router = DefaultRouter()
            router.register("a", views.AViewSet, basename="a")
            router_v4 = DefaultRouter()
            for prefix, viewset, basename in router.registry:
                router_v4.register(prefix, viewset, basename=basename)
            extra = DefaultRouter()


            def fill(target, pairs):
                for name, view in pairs:
                    target.register(name, view)


            fill(extra, [("x", views.AViewSet)])
            urlpatterns = [
                path("v3/", include(router.urls)),
                path("v4/", include(router_v4.urls)),
                path("e/", include(extra.urls)),
            ]
            """,
        },
        {"AViewSet.list": ("inline", False)},
    )
    assert sorted(e.route for e in report.endpoints) == ["/e/x/", "/v3/a/"]
    assert [(u.file, u.line, u.call) for u in report.unrecognized] == [
        ("app/urls.py", 9, "router_v4.register(...)")
    ]
