"""A versioned API's ``get_serializer_class()`` looks the serializer up by another class's
name (``registry[base_class.__name__][version]``): the view's serializer is that class, as
registered under its name (PATTERNS.md item 29). Snippets written for the audit."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def reschedule(pk):
        return pk
"""
MODELS = """
    from django.db import models

    class Slot(models.Model):
        pass
"""
VERSIONS = """
    SERIALIZERS = {}

    def register(cls):
        SERIALIZERS.setdefault(cls.__name__, {})["v1"] = cls
        return cls

    def serializer_by_version(name, version):
        return SERIALIZERS[name][version]
"""
SERIALIZERS = """
    from django.db import transaction
    from rest_framework import serializers
    from app.models import Slot
    from app.tasks import reschedule
    from app.versions import register

    @register
    class SlotSerializer(serializers.ModelSerializer):
        class Meta:
            model = Slot

    @register
    class SlotOrgaSerializer(SlotSerializer):
        def update(self, instance, validated_data):
            result = super().update(instance, validated_data)
            transaction.on_commit(lambda: reschedule.apply_async(kwargs={"pk": instance.pk}))
            return result
"""
MIXIN = """
    from app.versions import SERIALIZERS, serializer_by_version

    class VersionedMixin:
        def versioned(self, name):
            return serializer_by_version(name, self.request.version)

        def get_serializer_class(self):
            if hasattr(self, "get_unversioned_serializer_class"):
                base_class = self.get_unversioned_serializer_class()
            else:
                base_class = self.serializer_class
            return self.versioned(base_class.__name__)

    class KeyedMixin:
        def get_serializer_class(self):
            return SERIALIZERS[self.serializer_class.__name__]["v1"]

    class ByVersionMixin:
        def get_serializer_class(self):
            return serializer_by_version(self.request.version, "v1")
"""
URLS = """
    from rest_framework.routers import SimpleRouter
    from app import views
    router = SimpleRouter()
    router.register("slots", views.SlotViewSet)
    router.register("orga", views.OrgaViewSet)
    router.register("public", views.PublicViewSet)
    router.register("keyed", views.KeyedViewSet)
    router.register("by-version", views.ByVersionViewSet)
    urlpatterns = router.urls
"""
VIEWS = """
    from rest_framework import mixins, viewsets
    from app.mixins import ByVersionMixin, KeyedMixin, VersionedMixin
    from app.models import Slot
    from app.serializers import SlotOrgaSerializer, SlotSerializer

    class SlotViewSet(VersionedMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
        serializer_class = SlotSerializer
        queryset = Slot.objects.all()

        def get_unversioned_serializer_class(self):
            if self.request.user.is_staff:
                return SlotOrgaSerializer
            return SlotSerializer

    class OrgaViewSet(VersionedMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
        serializer_class = SlotOrgaSerializer
        queryset = Slot.objects.all()

    class PublicViewSet(VersionedMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
        serializer_class = SlotSerializer
        queryset = Slot.objects.all()

    class KeyedViewSet(KeyedMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
        serializer_class = SlotOrgaSerializer
        queryset = Slot.objects.all()

    class ByVersionViewSet(ByVersionMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
        serializer_class = SlotOrgaSerializer
        queryset = Slot.objects.all()
"""


def files(views: str = VIEWS) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/models.py": MODELS,
        "app/versions.py": VERSIONS,
        "app/serializers.py": SERIALIZERS,
        "app/mixins.py": MIXIN,
        "app/views.py": views,
        "app/urls.py": URLS,
    }


def both(view: str, status: str) -> dict[str, tuple[str, bool]]:
    return {f"{view}.update": (status, False), f"{view}.partial_update": (status, False)}


def test_a_serializer_looked_up_by_a_class_s_name_is_that_class(check):
    check(
        files(),
        {
            # the hook's first class (a staff user's serializer) schedules the task
            **both("SlotViewSet", "offloaded"),
            # no hook: `self.serializer_class` is the class looked up
            **both("OrgaViewSet", "offloaded"),
            **both("PublicViewSet", "inline"),
            # a registry read straight by the attribute's name
            **both("KeyedViewSet", "offloaded"),
            # looked up by something else (the version): the class stays unknown
            **both("ByVersionViewSet", "inline"),
        },
    )
