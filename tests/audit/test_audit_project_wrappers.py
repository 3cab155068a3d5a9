"""Project wrappers around the framework (issue 14, nautobot): a task decorator re-exported
under the project's own name (``project_task = shared_task``), and a base viewset whose own
``get_object()`` the analyser cannot type (a lookup through ``filter_queryset``), which
still returns the routed class's model. Snippets of audited projects (source text only)."""

from __future__ import annotations

CELERY = """
from celery import Celery, shared_task
import functools
from functools import partial
from rq.decorators import job as rq_job

job = partial(rq_job, connection=None)  # told by its own name, not by what it resolves to

app = Celery("proj")
project_task = shared_task
app_task = app.task
cached = functools.lru_cache
"""
JOBS = """
from proj.celery import app_task, cached, job, project_task

@job("default")
def refresh(pk):
    return pk

@project_task(bind=True)
def run_job(self, path):
    return path

@app_task
def notify(pk):
    return pk

@cached(maxsize=1)
def settings_for(pk):
    return pk
"""
URLS = """
from django.urls import path
from proj.views import {names}

urlpatterns = [{paths}]
"""


def urls(*names: str) -> str:
    paths = ", ".join(f'path("{n.lower()}/", {n}.as_view())' for n in names)
    return URLS.format(names=", ".join(names), paths=paths)


def test_an_alias_of_shared_task_or_app_task_decorates_tasks(check):
    views = """
    from django.db import transaction
    from rest_framework.views import APIView
    from proj.jobs import notify, refresh, run_job, settings_for

    def enqueue_job(path, synchronous=False):
        if synchronous:
            return run_job.apply(args=[path])
        from proj.jobs import run_job as deferred
        transaction.on_commit(lambda: deferred.apply_async(args=[path]))

    class Run(APIView):
        def post(self, request):
            enqueue_job(request.data["path"])

    class Notify(APIView):
        def post(self, request):
            notify.delay(1)

    class Refresh(APIView):
        def post(self, request):
            refresh.delay(1)

    class Cached(APIView):
        def get(self, request):
            settings_for.delay(1)  # a look-alike: lru_cache gives no .delay
    """
    files = {
        "proj/__init__.py": "",
        "proj/celery/__init__.py": CELERY,
        "proj/jobs.py": JOBS,
        "proj/views.py": views,
        "proj/urls.py": urls("Run", "Notify", "Refresh", "Cached"),
    }
    report = check(
        files,
        {
            "Run.post": ("offloaded", False),
            "Notify.post": ("offloaded", False),
            "Refresh.post": ("offloaded", False),
            "Cached.get": ("inline", False),
        },
    )
    run = next(e for e in report.endpoints if e.handler == "Run.post")
    lines = sorted(e.line for e in run.evidence if e.kind == "dispatch")
    assert lines == [9]  # the on_commit apply_async; apply() runs in the request
    refreshed = next(e for e in report.endpoints if e.handler == "Refresh.post")
    assert {e.queue_system for e in refreshed.evidence if e.kind == "dispatch"} == {"rq"}


FILES = {
    "app/__init__.py": "",
    "app/tasks.py": """
    from celery import shared_task

    @shared_task
    def cleanup(key):
        return key
    """,
    "app/models.py": """
    from django.db import models
    from app.tasks import cleanup

    class Field(models.Model):
        def delete(self, *args, **kwargs):
            super().delete(*args, **kwargs)
            cleanup.delay(self.pk)

    class Plain(models.Model):
        pass
    """,
    "app/base.py": """
    import logging
    from django.shortcuts import get_object_or_404
    from rest_framework import mixins, viewsets
    from rest_framework.viewsets import ModelViewSet as ModelViewSet_

    class LookupMixin:
        def get_object(self):
            queryset = self.filter_queryset(self.get_queryset())
            obj = get_object_or_404(queryset, **{self.lookup_field: self.kwargs["pk"]})
            self.check_object_permissions(self.request, obj)
            return obj

    class BulkDestroyMixin:
        def bulk_destroy(self, request, *args, **kwargs):
            for obj in self.get_queryset():
                self.perform_destroy(obj)

    class ModelViewSet(BulkDestroyMixin, LookupMixin, ModelViewSet_):
        logger = logging.getLogger(__name__)

        def perform_destroy(self, instance):
            self.logger.info("deleting %s", instance)
            return super().perform_destroy(instance)
    """,
    "app/views.py": """
    from app.base import ModelViewSet
    from app.models import Field, Plain

    class FieldViewSet(ModelViewSet):
        queryset = Field.objects.all()

    class PlainViewSet(ModelViewSet):
        queryset = Plain.objects.all()
    """,
    "app/urls.py": """
    from rest_framework.routers import SimpleRouter
    from app.views import FieldViewSet, PlainViewSet

    router = SimpleRouter()
    router.register("fields", FieldViewSet)
    router.register("plain", PlainViewSet)
    urlpatterns = router.urls
    """,
}


def crud(view: str, offloaded: tuple[str, ...]) -> dict[str, tuple[str, bool]]:
    methods = ("create", "destroy", "list", "partial_update", "retrieve", "update")
    return {f"{view}.{m}": ("offloaded" if m in offloaded else "inline", False) for m in methods}


def test_an_overridden_get_object_returns_the_model_of_the_routed_class(check):
    report = check(FILES, {**crud("FieldViewSet", ("destroy",)), **crud("PlainViewSet", ())})
    destroyed = next(e for e in report.endpoints if e.handler == "FieldViewSet.destroy")
    [dispatch] = [e for e in destroyed.evidence if e.kind == "dispatch"]
    assert (dispatch.file, dispatch.line) == ("app/models.py", 7)
    assert "app/models.py:Field.delete" in dispatch.via
