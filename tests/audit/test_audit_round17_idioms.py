"""Shapes round 17 found read wrong (PATTERNS.md items 177-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controlplane.migrations_audit.report import Report

DB = """
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.model import Model
from flask_sqlalchemy.query import Query as BaseQuery


class ShopQuery(BaseQuery):
    def live(self):
        return self.filter_by(deleted=False)

    def archive_all(self):
        from app.tasks import archive
        archive.delay()


class ShopModel(Model):
    {declaration}


db = SQLAlchemy(model_class=ShopModel, query_class=ShopQuery)
"""
MODELS = """
from app.db import ShopModel
from app.tasks import purge


class Order(ShopModel):
    def delete(self):
        purge.delay(self.id)
"""
TASKS = """
from celery import shared_task


@shared_task
def purge(order_id):
    pass


@shared_task
def archive():
    pass
"""
VIEWS = """
from flask import Flask

from app.models import Order

app = Flask(__name__)


@app.post("/orders/purge")
def purge_orders():
    for order in Order.query.filter_by(paid=False).order_by(Order.id).all()[:]:
        order.delete()
    return ""


@app.post("/orders/archive")
def archive_orders():
    Order.query.archive_all()
    return ""


@app.get("/orders/count")
def count_orders():
    return str(Order.query.live().count())
"""


def shop(declaration: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/db.py": DB.replace("{declaration}", declaration),
        "app/models.py": MODELS,
        "app/tasks.py": TASKS,
        "app/views.py": VIEWS,
    }


@pytest.mark.parametrize(
    "declaration",
    [
        "query: ShopQuery",
        "query_class = ShopQuery",
        "query: ShopQuery\n    query_class = ShopQuery",
    ],
)
def test_a_model_query_typed_with_a_project_query_class_is_the_models_query(
    check: Callable[..., Report], declaration: str
) -> None:
    """Item 177: a base annotating ``query`` with the project's query class made
    ``Order.query`` an instance of that class, and the rows it returns had no class."""
    check(
        shop(declaration),
        {
            "purge_orders": ("offloaded", False),
            "archive_orders": ("offloaded", False),
            "count_orders": ("inline", False),
        },
    )


def test_a_query_attribute_of_another_class_stays_what_it_is(
    check: Callable[..., Report],
) -> None:
    """Item 177, negative: ``query`` holding an instance of a class that is no query class
    (a search helper) is that instance; its rows are not the model's."""
    files = shop("pass")
    files["app/models.py"] = MODELS.replace(
        "class Order(ShopModel):",
        "class Finder:\n    def filter_by(self, **kw):\n        return []\n\n\n"
        "class Order(ShopModel):\n    query = Finder()\n",
    )
    files["app/views.py"] = VIEWS.split('\n\n@app.post("/orders/archive")')[0] + "\n"
    check(files, {"purge_orders": ("inline", False)})


DJANGO_TASKS = """
from celery import shared_task


@shared_task
def purge(order_id):
    pass
"""
DJANGO_MODELS = """
from django.db import models

from app.tasks import purge


class OrderQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(paid=False)

    def newest(self):
        return self.order_by("-id").first()

    def blank(self):
        return self.model(paid=False)


class OrderManager(models.Manager):
    def stale(self):
        return super().get_queryset().filter(stale=True)


class Order(models.Model):
    objects = OrderQuerySet.as_manager()
    stale_ones = OrderManager()

    def delete(self):
        purge.delay(self.id)

    def archive(self):
        purge.delay(self.id)
"""
DJANGO_VIEWS = """
from django.http import HttpResponse

from app.models import Order


def purge_pending(request):
    for order in Order.objects.pending().all():
        order.delete()
    return HttpResponse()


def purge_newest(request):
    Order.objects.newest().delete()
    return HttpResponse()


def add_blank(request):
    Order.objects.blank().archive()
    return HttpResponse()
"""
DJANGO_URLS = """
from django.urls import path

from app.views import add_blank, purge_newest, purge_pending

urlpatterns = [
    path("pending", purge_pending),
    path("newest", purge_newest),
    path("blank", add_blank),
]
"""


def test_a_custom_queryset_method_returns_the_models_rows(check: Callable[..., Report]) -> None:
    """Item 178: ``self`` in a method of a model's queryset or manager is the model's query,
    so ``self.filter(...)`` keeps the model and its rows' ``delete()`` is followed;
    ``self.model(...)`` is an instance of the model."""
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": DJANGO_TASKS,
            "app/models.py": DJANGO_MODELS,
            "app/views.py": DJANGO_VIEWS,
            "urls.py": DJANGO_URLS,
        },
        {
            "purge_pending": ("offloaded", False),
            "purge_newest": ("offloaded", False),
            "add_blank": ("offloaded", False),
        },
    )
    # known, not one guess among the project's methods named like it
    assert {e.handler: e.confidence for e in report.endpoints} == dict.fromkeys(
        ("purge_pending", "purge_newest", "add_blank"), "certain"
    )


def test_a_query_class_method_returns_the_models_rows(check: Callable[..., Report]) -> None:
    """Item 178 for Flask-SQLAlchemy: a query class's method returning ``self.filter_by``."""
    files = shop("query_class = ShopQuery")
    files["app/views.py"] = VIEWS.replace(
        "Order.query.filter_by(paid=False).order_by(Order.id).all()[:]", "Order.query.live()"
    )
    check(
        files,
        {
            "purge_orders": ("offloaded", False),
            "archive_orders": ("offloaded", False),
            "count_orders": ("inline", False),
        },
    )


SENDERS = """
import dramatiq


@dramatiq.actor
def webhook(kind):
    pass


def plain(kind):
    pass


def send_task(task, *args, **kwargs):
    task.send(*args, **kwargs)


def fire(kind, *, send_task):
    send_task(webhook, kind)
"""
SENDER_DEPENDENCIES = """
import functools

from app.tasks import fire, send_task


async def get_fire():
    return functools.partial(fire, send_task=send_task)
"""
SENDER_ROUTES = """
import functools

from fastapi import Depends, FastAPI

from app.deps import get_fire
from app.tasks import fire, plain, send_task, webhook

app = FastAPI()


@app.post("/injected")
async def injected(fire_it=Depends(get_fire)):
    fire_it("created")


@app.post("/local")
async def local():
    later = functools.partial(fire, send_task=send_task)
    later("created")


@app.post("/direct")
async def direct():
    send_task(webhook, "created")


@app.post("/plain")
async def plain_function():
    send_task(plain, "created")
"""


def sender_project(rename: str = "send_task") -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": SENDERS.replace("send_task", rename),
        "app/deps.py": SENDER_DEPENDENCIES.replace("send_task", rename),
        "app/main.py": SENDER_ROUTES.replace("send_task", rename),
    }


@pytest.mark.parametrize("name", ["send_task", "enqueue"])
def test_a_sender_bound_into_a_partial_and_an_actor_passed_to_a_helper(
    check: Callable[..., Report], name: str
) -> None:
    """Items 180-181: a partial binding the sender by keyword, returned by a dependency or
    built locally, runs the helper with it; the helper's ``task.send`` on the actor it was
    given is Dramatiq's; a project ``send_task`` is followed, not taken for Celery's by its
    name, so given a plain function it dispatches nothing."""
    report = check(
        sender_project(name),
        {
            "injected": ("offloaded", False),
            "local": ("offloaded", False),
            "direct": ("offloaded", False),
            "plain_function": ("inline", False),
        },
    )
    systems = {
        e.handler: {x.queue_system for x in e.evidence if x.kind == "dispatch"}
        for e in report.endpoints
    }
    assert systems == {
        "injected": {"dramatiq"},
        "local": {"dramatiq"},
        "direct": {"dramatiq"},
        "plain_function": set(),
    }


INJECTED_SENDER = """
import functools

from fastapi import Depends

from app.tasks import fire, send_task


async def get_sender():
    return send_task


async def get_fire(sender=Depends(get_sender)):
    return functools.partial(fire, send_task=sender)
"""


def test_a_dependency_passed_on_by_its_provider_is_what_its_own_provider_returns(
    check: Callable[..., Report],
) -> None:
    """Item 182: a provider's parameter FastAPI fills (``sender=Depends(get_sender)``) and
    passes on is what ``get_sender()`` returns, not an unknown parameter."""
    files = sender_project("enqueue")
    files["app/deps.py"] = INJECTED_SENDER.replace("send_task", "enqueue")
    report = check(
        files,
        {
            "injected": ("offloaded", False),
            "local": ("offloaded", False),
            "direct": ("offloaded", False),
            "plain_function": ("inline", False),
        },
    )
    assert [e.confidence for e in report.endpoints if e.handler == "injected"] == ["certain"]


USER_RECEIVERS = """
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=User)
def welcome(sender, instance, created, **kwargs):
    if created:
        send_mail("Welcome", "Hello", "team@example.org", [instance.email])
"""
USER_VIEWS = """
from django.contrib.auth.models import User
from django.http import HttpResponse


def join(request):
    User.objects.create_user(username=request.POST["name"])
    return HttpResponse()
"""


@pytest.mark.parametrize("custom_user_model", [False, True])
def test_a_receiver_for_djangos_own_user_imported_by_name(
    check: Callable[..., Report], custom_user_model: bool
) -> None:
    """Item 184: ``sender=User`` (``django.contrib.auth.models``) is the user model when the
    project keeps Django's own; with a custom one that receiver never fires."""
    files = {
        "app/__init__.py": "",
        "app/signals.py": USER_RECEIVERS,
        "app/views.py": USER_VIEWS,
        "urls.py": "from django.urls import path\nfrom app.views import join\n"
        'urlpatterns = [path("join", join)]\n',
    }
    if custom_user_model:
        files["settings.py"] = 'AUTH_USER_MODEL = "accounts.Member"\n'
        files["accounts/__init__.py"] = ""
        files["accounts/models.py"] = (
            "from django.contrib.auth.models import AbstractUser\n\n\n"
            "class Member(AbstractUser):\n    pass\n"
        )
    check(files, {"join": ("inline", not custom_user_model)})


def test_url_lists_of_both_arms_of_a_setting_test_are_listed(
    run_audit: Callable[..., Report],
) -> None:
    """Item 185: ``if settings.X: urlpatterns = [...] else: urlpatterns = [...]``; both
    arms' routes exist, one or the other by deployment."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/views.py": "from django.http import HttpResponse\n\n\n"
            "def login(request):\n    return HttpResponse()\n\n\n"
            "def signup(request):\n    return HttpResponse()\n\n\n"
            "def debug(request):\n    return HttpResponse()\n",
            "urls.py": """
            from django.conf import settings
            from django.urls import path

            from app.views import debug, login, signup

            if settings.AUTH_METHOD == "django":
                urlpatterns = [path("standalone-login/", login)]
            else:
                urlpatterns = [path("login/", login), path("signup/", signup)]
            if settings.DEBUG:
                urlpatterns += [path("debug/", debug)]
            """,
        }
    )
    assert sorted(e.route for e in report.endpoints) == [
        "/debug/",
        "/login/",
        "/signup/",
        "/standalone-login/",
    ]


MAIL_AND_OAUTH = """
from fastapi import FastAPI
from fastapi_mail import ConnectionConfig, FastMail, MessageSchema
from requests_oauthlib import OAuth2Session

app = FastAPI()
mail = FastMail(ConnectionConfig(MAIL_SERVER="smtp.example.org"))


@app.post("/contact")
async def contact():
    await mail.send_message(MessageSchema(subject="Hi", recipients=["a@example.org"]))


@app.get("/login")
def login():
    url, state = OAuth2Session("client-id").authorization_url("https://idp.example.org/auth")
    return {"url": url, "state": state}


@app.get("/callback")
def callback(code: str):
    return OAuth2Session("client-id").fetch_token("https://idp.example.org/token", code=code)
"""


def test_fastapi_mail_is_email_and_an_oauth_authorization_url_is_local(
    check: Callable[..., Report],
) -> None:
    """Item 186."""
    check(
        {"app/__init__.py": "", "app/main.py": MAIL_AND_OAUTH},
        {
            "contact": ("inline", True),
            "login": ("inline", False),
            "callback": ("inline", True),
        },
    )


REPRESENTED = """
import requests
from rest_framework import serializers

from app.models import Photo


class PhotoSerializer(serializers.ModelSerializer):
    similar = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = ["similar"]

    def get_similar(self, photo):
        return requests.post("https://similar.example/search", json={"id": photo.pk}).json()
"""


@pytest.mark.parametrize(
    "body",
    [
        "return Response(PhotoSerializer(photo).data)",
        "return Response({'photo': PhotoSerializer(photo).data})",
        "out = []\n        out.append(PhotoSerializer(photo).data)\n        return Response(out)",
        "shown = PhotoSerializer(photo)\n        return Response({'photo': shown.data})",
    ],
)
def test_a_serializers_data_read_anywhere_runs_its_representation(
    check: Callable[..., Report], body: str
) -> None:
    """Item 187: ``.data`` of a project serializer runs its method fields' getters wherever
    it is read, not only as a call's argument."""
    check(
        {
            "app/__init__.py": "",
            "app/models.py": "from django.db import models\n\n\n"
            "class Photo(models.Model):\n    pass\n",
            "app/serializers.py": REPRESENTED,
            "app/views.py": "from rest_framework.response import Response\n"
            "from rest_framework.views import APIView\n\n"
            "from app.models import Photo\nfrom app.serializers import PhotoSerializer\n\n\n"
            "class PhotoView(APIView):\n    def get(self, request, pk):\n"
            f"        photo = Photo.objects.get(pk=pk)\n        {body}\n",
            "urls.py": "from django.urls import path\n\nfrom app.views import PhotoView\n\n"
            'urlpatterns = [path("photos/<int:pk>", PhotoView.as_view())]\n',
        },
        {"PhotoView.get": ("inline", True)},
    )


UPLOAD_VIEWS = """
from chunked_upload.views import ChunkedUploadCompleteView, ChunkedUploadView

from app.tasks import process_upload


class UploadDone(ChunkedUploadCompleteView):
    def on_completion(self, uploaded_file, request):
        path = self.save_copy(uploaded_file)
        process_upload.delay(path)

    def save_copy(self, uploaded_file):
        with open("/srv/uploads/" + uploaded_file.name, "wb") as out:
            out.write(uploaded_file.read())
        return out.name


class UploadChunk(ChunkedUploadView):
    pass
"""


def test_a_library_views_hooks_a_project_class_overrides_are_traced(
    check: Callable[..., Report],
) -> None:
    """Item 188: the project's ``on_completion`` that a library's ``post()`` calls decides
    the status, ``likely`` (the library's code is not read); a subclass adding nothing is
    still the library's view."""
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": "from celery import shared_task\n\n\n"
            "@shared_task\ndef process_upload(path):\n    pass\n",
            "app/views.py": UPLOAD_VIEWS,
            "urls.py": "from django.urls import path\n\nfrom app.views import UploadChunk, "
            'UploadDone\n\nurlpatterns = [\n    path("upload/", UploadChunk.as_view()),\n'
            '    path("upload/done/", UploadDone.as_view()),\n]\n',
        },
        {"UploadChunk": ("inline", False), "UploadDone": ("offloaded", False)},
    )
    done = next(e for e in report.endpoints if e.handler == "UploadDone")
    assert done.confidence == "likely"
    assert "own methods it may call were traced (on_completion, save_copy)" in done.route_note


CALLABLE_TYPED = """
from collections.abc import Callable

import dramatiq

from app.types import Sender


@dramatiq.actor
def webhook(kind):
    pass


def enqueue(task, *args):
    task.send(*args)


def fire_inline(kind, *, send: Callable[..., None]):
    send(webhook, kind)


def fire_alias(kind, *, send: Sender):
    send(webhook, kind)


class Notifier:
    def __call__(self, kind):
        webhook.send(kind)


def notify(kind, notifier: Notifier):
    notifier(kind)
"""
CALLABLE_ROUTES = """
from fastapi import FastAPI

from app.tasks import Notifier, enqueue, fire_alias, fire_inline, notify

app = FastAPI()


@app.post("/inline")
def inline_typed():
    fire_inline("created", send=enqueue)


@app.post("/alias")
def alias_typed():
    fire_alias("created", send=enqueue)


@app.post("/instance")
def instance_typed():
    notify("created", Notifier())
"""


def test_a_callable_parameter_typed_by_annotation_is_what_the_caller_passes(
    check: Callable[..., Report],
) -> None:
    """Item 189: ``send: Callable[..., None]``, or a ``Callable`` alias from another module,
    called: what the caller passed is called; a parameter typed with a class whose
    instances are called still runs that class's ``__call__``."""
    check(
        {
            "app/__init__.py": "",
            "app/types.py": "from collections.abc import Callable\n\n"
            "Sender = Callable[..., None]\n",
            "app/tasks.py": CALLABLE_TYPED,
            "app/main.py": CALLABLE_ROUTES,
        },
        {
            "inline_typed": ("offloaded", False),
            "alias_typed": ("offloaded", False),
            "instance_typed": ("offloaded", False),
        },
    )


RUNNERS = """
import asyncio
import subprocess

import requests
from fastapi import FastAPI

app = FastAPI()


@app.get("/streams")
async def streams():
    return await asyncio.to_thread(requests.get, "http://127.0.0.1:1984/api/streams")


@app.post("/preview")
async def preview():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, subprocess.run, ["ffmpeg", "-i", "in.mp4", "out.gif"])


@app.get("/sum")
async def total():
    return await asyncio.to_thread(sum, [1, 2, 3])
"""


def test_a_library_function_handed_to_a_thread_runner_is_that_work(
    check: Callable[..., Report],
) -> None:
    """Item 190: ``to_thread(requests.get, url)`` makes the request in the endpoint;
    ``to_thread(sum, ...)`` is light."""
    check(
        {"app/__init__.py": "", "app/main.py": RUNNERS},
        {"streams": ("inline", True), "preview": ("inline", True), "total": ("inline", False)},
    )


HANDED_VIEWS = """
from django.core.mail import send_mail
from django.http import HttpResponse
from django.views.generic.edit import FormView

from app.forms import TicketForm


class CreateTicket(FormView):
    form_class = TicketForm
    template_name = "ticket.html"

    def form_valid(self, form):
        send_mail("New ticket", "...", "desk@example.org", ["staff@example.org"])
        return HttpResponse()


def create_ticket(request):
    return CreateTicket.as_view()(request)
"""


def test_a_function_view_handing_the_request_to_a_framework_class_view(
    check: Callable[..., Report],
) -> None:
    """Item 191: ``CreateTicket.as_view()(request)``, the class defining no verb of its own:
    Django's ``post()`` runs and calls back ``form_valid``."""
    check(
        {
            "app/__init__.py": "",
            "app/forms.py": "from django import forms\n\n\nclass TicketForm(forms.Form):\n"
            "    title = forms.CharField()\n",
            "app/views.py": HANDED_VIEWS,
            "urls.py": "from django.urls import path\n\nfrom app.views import create_ticket\n\n"
            'urlpatterns = [path("tickets/new", create_ticket)]\n',
        },
        {"create_ticket": ("inline", True)},
    )


DOCUMENT_WORK = """
import akismet
import exiftool
import owncloud
import pdf2image
import pikepdf
import weasyprint
from flask import Flask

app = Flask(__name__)


@app.post("/pages/rotate")
def rotate():
    with pikepdf.open("doc.pdf") as pdf:
        pdf.save("out.pdf")
    return ""


@app.get("/thumbnail")
def thumbnail():
    return pdf2image.convert_from_path("doc.pdf")[0].tobytes()


@app.get("/invoice.pdf")
def invoice():
    return weasyprint.HTML(string="<h1>Invoice</h1>").write_pdf()


@app.post("/photos/rate")
def rate():
    with exiftool.ExifToolHelper() as tool:
        tool.set_tags(["a.jpg"], {"Rating": 5})
    return ""


@app.get("/cloud/list")
def cloud_list():
    client = owncloud.Client("https://cloud.example.org")
    return [f.path for f in client.list("/")]


@app.post("/comments")
def comment():
    return str(akismet.Akismet(key="k", blog_url="https://x").comment_check("text"))


@app.get("/plain")
def plain():
    return "ok"
"""


def test_document_and_sdk_work_seen_in_spot_checks_is_heavy(
    run_audit: Callable[..., Report],
) -> None:
    """Item 192: each library's call is the work it does, named by kind."""
    report = run_audit({"app/__init__.py": "", "app/main.py": DOCUMENT_WORK})
    kinds = {e.handler: sorted({x.kind for x in e.evidence}) for e in report.endpoints}
    assert kinds == {
        "rotate": ["file_io"],
        "thumbnail": ["subprocess"],
        "invoice": ["render"],
        "rate": ["subprocess"],
        "cloud_list": ["http"],
        "comment": ["http"],
        "plain": [],
    }
    assert {e.handler for e in report.endpoints if e.heavy} == set(kinds) - {"plain"}


APP_SERVICES = """
import threading

import requests
from fastapi import APIRouter, FastAPI, Request


class Trainer:
    def train(self, name):
        threading.Thread(target=self.run, args=(name,)).start()

    def run(self, name):
        pass


class PlusApi:
    def upload_model(self, name):
        requests.post("https://plus.example/models", json={"name": name})


router = APIRouter()


@router.post("/train")
def train(request: Request):
    trainer: Trainer = request.app.trainer
    trainer.train("x")


@router.post("/upload")
def upload(request: Request):
    request.app.plus.upload_model("x")


@router.get("/title")
def title(request: Request):
    return request.app.title.upper()


def create_app(trainer: Trainer, plus: PlusApi) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.trainer = trainer
    app.plus = plus
    return app
"""


def test_services_kept_on_the_app_object_are_not_the_frameworks(
    check: Callable[..., Report],
) -> None:
    """Item 193: ``request.app.<service>`` is a value held at run time: an annotated local
    is that class; a method called on it is guessed among the project's (the evidence
    says so); ``request.app.title`` is Starlette's own."""
    report = check(
        {"app/__init__.py": "", "app/main.py": APP_SERVICES},
        {
            "train": ("inprocess_background", False),
            "upload": ("inline", True),
            "title": ("inline", False),
        },
    )
    upload = next(e for e in report.endpoints if e.handler == "upload")
    assert [x.kind for x in upload.evidence] == ["http"]
    assert "the receiver's type is not known" in " ".join(upload.evidence[0].via)
