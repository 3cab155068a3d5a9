"""A receiver connected without a sender that filters on a mixin (PATTERNS.md round 6, item
16): ``@receiver(post_save) def h(sender, instance, **kw): if not isinstance(instance,
ScheduledModel): return; ...`` runs for saves of the models that subclass the mixin, through
the project's class hierarchy, and for no other model. Snippets written for the audit, not
copied from a project."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task


    @shared_task
    def schedule(pk):
        return pk
"""
MIXINS = """
    from django.db import models


    class SerializerModel(models.Model):
        class Meta:
            abstract = True


    class ScheduledModel(models.Model):
        class Meta:
            abstract = True


    class TaggedModel:
        pass
"""
MODELS = """
    from django.db import models

    from core.mixins import ScheduledModel, SerializerModel


    class Source(SerializerModel, ScheduledModel):
        name = models.CharField(max_length=10)


    class OAuthSource(Source):
        pass


    class Note(SerializerModel):
        name = models.CharField(max_length=10)
"""
RECEIVER = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver

    from core.mixins import ScheduledModel, TaggedModel
    from core.tasks import schedule


    @receiver(post_save)
    def post_save_scheduled(sender, instance, **_):
{body}
"""
VIEWS = """
    from core.models import Note, OAuthSource, Source


    def source(request):
        Source.objects.create(name="x")


    def oauth(request):
        OAuthSource(name="x").save()


    def note(request):
        Note.objects.create(name="x")
"""
URLS = """
    from django.urls import path
    from core import views

    urlpatterns = [
        path("source/", views.source),
        path("oauth/", views.oauth),
        path("note/", views.note),
    ]
"""
EARLY = """\
        if not isinstance(instance, ScheduledModel):
            return
        schedule.delay(instance.pk)"""
WRAPPED = """\
        \"\"\"Schedule what a scheduled model needs.\"\"\"
        if isinstance(instance, (TaggedModel, ScheduledModel)):
            schedule.delay(instance.pk)"""
SENDER = """\
        if not issubclass(sender, ScheduledModel):
            return
        schedule.delay(instance.pk)"""
LOCAL = """\
        from core.mixins import ScheduledModel as Scheduled

        if not isinstance(instance, Scheduled):
            return
        schedule.delay(instance.pk)"""

LOCAL_WRAPPED = """\
        from core import mixins

        if isinstance(instance, mixins.ScheduledModel):
            schedule.delay(instance.pk)"""


def files(body: str) -> dict[str, str]:
    return {
        "core/__init__.py": "",
        "core/tasks.py": TASKS,
        "core/mixins.py": MIXINS,
        "core/models.py": MODELS,
        "core/signals.py": RECEIVER.format(body=body),
        "core/views.py": VIEWS,
        "core/urls.py": URLS,
    }


@pytest.mark.parametrize(
    "body",
    [EARLY, WRAPPED, SENDER, LOCAL, LOCAL_WRAPPED],
    ids=["early-return", "wrapped", "sender", "local", "local-wrapped"],
)
def test_a_receiver_filtering_on_a_mixin_fires_for_its_subclasses_only(check, body):
    report = check(
        files(body),
        {
            "source": ("offloaded", False),
            "oauth": ("offloaded", False),  # a subclass of a subclass of the mixin
            "note": ("inline", False),
        },
    )
    for endpoint in report.endpoints:
        assert endpoint.confidence == "certain", endpoint.handler


def test_a_receiver_without_a_filter_still_fires_for_every_model(check):
    check(
        files("        schedule.delay(instance.pk)"),
        {
            "source": ("offloaded", False),
            "oauth": ("offloaded", False),
            "note": ("offloaded", False),
        },
    )
