"""``super()`` in a cooperative mixin continues along the MRO of the instance's class
(PATTERNS.md round 7, item 20): ``class Base(LogMixin, CleanupMixin, models.Model)``, where
``LogMixin.delete`` ends in ``super().delete()``, runs ``CleanupMixin.delete`` next when a
``Base`` is deleted, although ``CleanupMixin`` is not among ``LogMixin``'s own bases.
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task


    @shared_task
    def cleanup(pk):
        return pk
"""
MIXINS = """
    from django.db import models

    from core.tasks import cleanup


    class LogMixin:
        def delete(self, *args, **kwargs):
            print("deleting", self.pk)
            return super().delete(*args, **kwargs)

        def save(self, *args, **kwargs):
            result = super().save(*args, **kwargs)
            print("saved", self.pk)
            return result


    class Stamped(models.Model):
        stamp = models.IntegerField(default=0)

        class Meta:
            abstract = True


    class CleanupMixin:
        def delete(self, *args, **kwargs):
            cleanup.delay(self.pk)
            return super().delete(*args, **kwargs)

        def save(self, *args, **kwargs):
            cleanup.delay(self.pk)
            return super().save(*args, **kwargs)
"""
MODELS = """
    from django.db import models

    from core.mixins import CleanupMixin, LogMixin, Stamped


    class Base(LogMixin, Stamped, CleanupMixin, models.Model):
        class Meta:
            abstract = True


    class Answer(Base):
        text = models.CharField(max_length=10)


    class Logged(LogMixin, models.Model):
        text = models.CharField(max_length=10)


    class CleanedFirst(CleanupMixin, LogMixin, models.Model):
        text = models.CharField(max_length=10)
"""
VIEWS = """
    from core.models import Answer, CleanedFirst, Logged


    def delete_answer(request, pk):
        answer = Answer.objects.get(pk=pk)
        answer.delete()


    def rename_answer(request, pk):
        answer = Answer.objects.get(pk=pk)
        answer.text = "x"
        answer.save()


    def delete_logged(request, pk):
        logged = Logged.objects.get(pk=pk)
        logged.delete()


    def delete_cleaned(request, pk):
        CleanedFirst.objects.get(pk=pk).delete()
"""
URLS = """
    from django.urls import path
    from core import views

    urlpatterns = [
        path("answer/<int:pk>/delete/", views.delete_answer),
        path("answer/<int:pk>/rename/", views.rename_answer),
        path("logged/<int:pk>/delete/", views.delete_logged),
        path("cleaned/<int:pk>/delete/", views.delete_cleaned),
    ]
"""


def files() -> dict[str, str]:
    return {
        "core/__init__.py": "",
        "core/tasks.py": TASKS,
        "core/mixins.py": MIXINS,
        "core/models.py": MODELS,
        "core/views.py": VIEWS,
        "core/urls.py": URLS,
    }


def test_super_in_a_mixin_runs_the_next_class_of_the_instances_mro(check):
    report = check(
        files(),
        {
            "delete_answer": ("offloaded", False),  # LogMixin.delete -> CleanupMixin.delete
            "rename_answer": ("offloaded", False),  # the same through save()
            "delete_logged": ("inline", False),  # no CleanupMixin in Logged's MRO
            "delete_cleaned": ("offloaded", False),  # CleanupMixin first: found before
        },
    )
    answer = next(e for e in report.endpoints if e.handler == "delete_answer")
    [dispatch] = [item for item in answer.evidence if item.kind == "dispatch"]
    assert any("CleanupMixin.delete" in step for step in dispatch.via), dispatch.via


def test_a_viewsets_destroy_runs_the_mixins_after_the_first_one(run_audit):
    api = """
    from rest_framework import serializers, viewsets

    from core.models import Answer, Logged


    class AnswerSerializer(serializers.ModelSerializer):
        class Meta:
            model = Answer
            fields = ["text"]


    class LoggedSerializer(serializers.ModelSerializer):
        class Meta:
            model = Logged
            fields = ["text"]


    class AnswerViewSet(viewsets.ModelViewSet):
        queryset = Answer.objects.all()
        serializer_class = AnswerSerializer


    class LoggedViewSet(viewsets.ModelViewSet):
        queryset = Logged.objects.all()
        serializer_class = LoggedSerializer
    """
    urls = """
    from rest_framework.routers import DefaultRouter

    from core.api import AnswerViewSet, LoggedViewSet

    router = DefaultRouter()
    router.register("answers", AnswerViewSet)
    router.register("logged", LoggedViewSet)
    urlpatterns = router.urls
    """
    report = run_audit({**files(), "core/api.py": api, "core/urls.py": urls})
    statuses = {e.handler: e.status for e in report.endpoints}
    wanted = {
        "AnswerViewSet.destroy": "offloaded",  # LogMixin.delete -> CleanupMixin.delete
        "AnswerViewSet.update": "offloaded",
        "AnswerViewSet.retrieve": "inline",
        "LoggedViewSet.destroy": "inline",
        "LoggedViewSet.update": "inline",
    }
    assert {handler: statuses.get(handler) for handler in wanted} == wanted
