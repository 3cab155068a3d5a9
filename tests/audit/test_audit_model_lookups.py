"""A model looked up by name in a function (issue 14, PATTERNS.md round 9, item 40):
``Tag = apps.get_model("shop", "Tag")`` and then ``Tag(...).save()``, ``Tag.objects.create``
or a method of the model: the local is the project's model of that name, as through an
import. Snippets written for the audit (source text only, nothing runs)."""

from __future__ import annotations

import pytest

from tests.audit.test_audit_dispatch import TASKS
from tests.audit.test_audit_self_attrs import MODELS, RECEIVERS

OTHER_MODELS = """
    from django.db import models


    class Tag(models.Model):
        label = models.CharField(max_length=10)
"""


def files(body: str, **more: str) -> dict[str, str]:
    service = "\n".join("        " + line for line in body.strip().splitlines())
    out = {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/receivers.py": RECEIVERS,
        "shop/services.py": f"""
    from django.apps import apps


    def make(name):
{service}
""",
        "shop/views.py": """
    from rest_framework.decorators import api_view
    from rest_framework.response import Response
    from shop.services import make


    @api_view(["POST"])
    def create(request):
        make("x")
        return Response({})
""",
        "shop/urls.py": """
    from django.urls import path
    from shop import views

    urlpatterns = [path("tags/", views.create)]
""",
    }
    out.update(more)
    return out


@pytest.mark.parametrize(
    "body",
    [
        'Tag = apps.get_model("shop", "Tag")\ntag = Tag(name=name)\ntag.save()',
        'Tag = apps.get_model(app_label="shop", model_name="Tag")\nTag.objects.create(name=name)',
        'Tag = apps.get_model("shop.Tag")\nTag.objects.get(pk=1).publish()',
    ],
)
def test_a_model_looked_up_by_name_is_that_model(check, body):
    report = check(files(body), {"create": ("offloaded", False)})
    [endpoint] = report.endpoints
    assert endpoint.confidence == "certain"


@pytest.mark.parametrize(
    "body",
    [
        'Note = apps.get_model("shop", "Note")\nNote(name=name).save()',  # no receiver
        'Tag = apps.get_model("shop", name)\nTag(name=name).save()',  # a name not written
        'Tag = apps.get_model("shop", "Tag")\nTag = Note\nTag(name=name).save()',
    ],
)
def test_other_models_or_names_not_written_save_nothing_of_it(check, body):
    body = body.replace("Tag = Note", "from shop.models import Note\nTag = Note")
    check(files(body), {"create": ("inline", False)})


def test_a_name_two_project_models_share_is_not_guessed(check):
    body = 'Tag = apps.get_model("shop", "Tag")\nTag(name=name).save()'
    more = {"blog/__init__.py": "", "blog/models.py": OTHER_MODELS}
    check(files(body, **more), {"create": ("inline", False)})


# Round 9, item 41: a row fetched by get_object_or_404 from a queryset chosen at run time
UNKNOWN_ROW = """
from django.shortcuts import get_object_or_404
from shop.models import Note, Tag
QUERYSETS = {"tag": Tag.objects.all(), "note": Note.objects.all()}
row = get_object_or_404(klass=QUERYSETS[name], pk=1)
row.METHOD()
"""


@pytest.mark.parametrize(
    ("method", "status"),
    [("publish", "offloaded"), ("refresh_from_db", "inline")],
)
def test_a_method_of_a_row_of_an_unknown_model_is_guessed_among_the_projects(check, method, status):
    report = check(files(UNKNOWN_ROW.replace("METHOD", method)), {"create": (status, False)})
    [endpoint] = report.endpoints
    assert endpoint.confidence == "likely" or status == "inline"


# Round 9, item 53: a class loaded by its dotted path at run time is of unknown type
BACKENDS = """
    from django.utils.module_loading import import_string
    from shop.tasks import crunch


    class Source:
        backend_path = "shop.backends.WebForm"

        def get_backend(self):
            return import_string(self.backend_path)


    class WebForm:
        def __init__(self, **options):
            self.options = options

        def process_upload(self, name):
            crunch.delay(name)
"""


def test_a_method_of_a_class_loaded_by_its_path_is_guessed(check):
    body = 'from shop.backends import Source\nSource().get_backend()().process_upload("x")'
    report = check({**files(body), "shop/backends.py": BACKENDS}, {"create": ("offloaded", False)})
    [endpoint] = report.endpoints
    assert endpoint.confidence == "likely"  # a guess, and the report says so


# Round 9, item 57: a sender looked up by name in the connect call itself
READY = """
    from django.apps import AppConfig, apps
    from django.db.models import signals


    class ShopConfig(AppConfig):
        name = "shop"

        def ready(self):
            from shop.receivers import saved

            signals.post_save.connect(
                saved, sender=apps.get_model("shop", "Tag"), dispatch_uid="tag_saved"
            )
"""
SAVED = """
    from shop.tasks import crunch


    def saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)
"""


@pytest.mark.parametrize(
    ("body", "status"),
    [("Tag(name=name).save()", "offloaded"), ("Note(name=name).save()", "inline")],
)
def test_a_sender_looked_up_in_the_connect_call_is_that_model(check, body, status):
    body = "from shop.models import Note, Tag\n" + body
    more = {"shop/apps.py": READY, "shop/receivers.py": SAVED}
    check({**files(body), **more}, {"create": (status, False)})


# Round 11, item 70: swapper's load_model, and lookups at module level
@pytest.mark.parametrize(
    "body",
    [
        'from swapper import load_model\nTag = load_model("shop", "Tag")\nTag(name=name).save()',
        'import swapper\nTag = swapper.load_model("shop", model="Tag")\nTag(name=name).save()',
    ],
)
def test_a_swappable_model_loaded_by_name_is_that_model(check, body):
    check(files(body), {"create": ("offloaded", False)})


@pytest.mark.parametrize(
    "lookup, status",
    [
        ('apps.get_model("shop", "Tag")', "offloaded"),
        ('load_model("shop", "Tag")', "offloaded"),
        ('load_model("shop", "Note")', "inline"),  # a model with no receiver
        ('load_model("tag.h5")', "inline"),  # another library's load_model: one argument
    ],
)
def test_a_model_looked_up_at_module_level_is_that_model(check, lookup, status):
    service = f"""
    from django.apps import apps
    from swapper import load_model

    Tag = {lookup}


    def make(name):
        Tag.objects.create(name=name)
"""
    check(files("pass", **{"shop/services.py": service}), {"create": (status, False)})
