"""A framework base earlier in the MRO shadows a later project base's method (PATTERNS.md
round 7b, item 24): ``class S(ProjectModelSerializer, PassiveMixin)``, the first deriving
from DRF's ``ModelSerializer`` (which defines ``create``), the second a project class with a
stub ``create``; DRF's ``create`` runs and saves the model. Snippets written for the audit,
not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task


    @shared_task
    def schedule(pk):
        return pk
"""
MODELS = """
    from django.db import models
    from django.db.models.signals import post_save
    from django.dispatch import receiver

    from core.tasks import schedule


    class Connection(models.Model):
        name = models.CharField(max_length=10)


    @receiver(post_save, sender=Connection)
    def connection_saved(sender, instance, **kwargs):
        schedule.delay(instance.pk)
"""
UTILS = """
    from django.db.models import Model
    from rest_framework.serializers import ModelSerializer as BaseModelSerializer
    from rest_framework.serializers import Serializer


    class ModelSerializer(BaseModelSerializer):
        def update(self, instance, validated_data):
            for key, value in validated_data.items():
                setattr(instance, key, value)
            instance.save()
            return instance


    class PassiveSerializer(Serializer):
        def create(self, validated_data):
            return Model()

        def update(self, instance, validated_data):
            return Model()


    class MetaNameSerializer(PassiveSerializer):
        pass
"""
API = """
    from rest_framework import viewsets

    from core.models import Connection
    from core.utils import MetaNameSerializer, ModelSerializer


    class ConnectionSerializer(ModelSerializer, MetaNameSerializer):
        class Meta:
            model = Connection
            fields = ["name"]


    class PreviewSerializer(MetaNameSerializer, ModelSerializer):
        class Meta:
            model = Connection
            fields = ["name"]


    class ConnectionViewSet(viewsets.ModelViewSet):
        queryset = Connection.objects.all()
        serializer_class = ConnectionSerializer


    class PreviewViewSet(viewsets.ModelViewSet):
        queryset = Connection.objects.all()
        serializer_class = PreviewSerializer
"""
URLS = """
    from rest_framework.routers import DefaultRouter

    from core.api import ConnectionViewSet, PreviewViewSet

    router = DefaultRouter()
    router.register("connections", ConnectionViewSet)
    router.register("previews", PreviewViewSet)
    urlpatterns = router.urls
"""


def test_a_framework_base_before_a_project_mixin_runs_its_own_create(run_audit):
    report = run_audit(
        {
            "core/__init__.py": "",
            "core/tasks.py": TASKS,
            "core/models.py": MODELS,
            "core/utils.py": UTILS,
            "core/api.py": API,
            "core/urls.py": URLS,
        }
    )
    statuses = {e.handler: e.status for e in report.endpoints}
    wanted = {
        # DRF's ModelSerializer.create comes first: the model is saved, its receiver fires
        "ConnectionViewSet.create": "offloaded",
        "ConnectionViewSet.update": "offloaded",  # the project ModelSerializer's update
        "ConnectionViewSet.list": "inline",
        # the passive mixin first: its stub create and update run, nothing is saved
        "PreviewViewSet.create": "inline",
        "PreviewViewSet.update": "inline",
    }
    assert {handler: statuses.get(handler) for handler in wanted} == wanted
