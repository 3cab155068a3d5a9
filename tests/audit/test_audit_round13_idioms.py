"""Framework idioms a round-13 spot check found read wrong (PATTERNS.md items 102-106).
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

NOTE_MODELS = """
    from django.db import models

    class Note(models.Model):
        text = models.TextField()
"""
NOTE_RECEIVERS = """
    from celery import shared_task
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from models import Note

    @shared_task
    def index_note(pk):
        return pk

    @receiver(post_save, sender=Note)
    def on_saved(sender, instance, **kwargs):
        index_note.delay(instance.pk)
"""
NOTE_SERIALIZERS = """
    from rest_framework import serializers
    from models import Note

    class NoteSerializer(serializers.ModelSerializer):
        class Meta:
            model = Note
            fields = ["id", "text"]
"""


def test_a_framework_mixin_method_called_by_class_name_with_self_runs_its_body(check):
    """Item 102: ``mixins.UpdateModelMixin.update(self, ...)`` in a project mixin that does
    not subclass it runs DRF's update for the viewset ``self`` is: its serializer saves,
    the model's receivers run. A call on another object than ``self`` is not the view's."""
    check(
        {
            "models.py": NOTE_MODELS,
            "receivers.py": NOTE_RECEIVERS,
            "serializers.py": NOTE_SERIALIZERS,
            "mixins.py": """
            from rest_framework import mixins

            class PatchOnlyMixin:
                def _update(self, request, *args, **kwargs):
                    return mixins.UpdateModelMixin.update(self, request, *args, **kwargs)

                def perform_update(self, serializer):
                    mixins.UpdateModelMixin.perform_update(self, serializer=serializer)

                def partial_update(self, request, *args, **kwargs):
                    return mixins.UpdateModelMixin.partial_update(self, request, *args, **kwargs)

            class DirectPatchMixin:
                def partial_update(self, request, *args, **kwargs):
                    kwargs["partial"] = True
                    return mixins.UpdateModelMixin.update(self, request, *args, **kwargs)

            class ElsewhereMixin:
                def partial_update(self, request, *args, **kwargs):
                    other = self.get_other_view()
                    return mixins.UpdateModelMixin.update(other, request, *args, **kwargs)
            """,
            "views.py": """
            from rest_framework import viewsets
            from mixins import DirectPatchMixin, ElsewhereMixin, PatchOnlyMixin
            from models import Note
            from serializers import NoteSerializer

            class NoteViewSet(viewsets.GenericViewSet, PatchOnlyMixin):
                queryset = Note.objects.all()
                serializer_class = NoteSerializer

            class DirectViewSet(viewsets.GenericViewSet, DirectPatchMixin):
                queryset = Note.objects.all()
                serializer_class = NoteSerializer

            class ElsewhereViewSet(viewsets.GenericViewSet, ElsewhereMixin):
                queryset = Note.objects.all()
                serializer_class = NoteSerializer
            """,
            "urls.py": """
            from rest_framework.routers import DefaultRouter
            from views import DirectViewSet, ElsewhereViewSet, NoteViewSet

            router = DefaultRouter()
            router.register("notes", NoteViewSet)
            router.register("direct", DirectViewSet)
            router.register("elsewhere", ElsewhereViewSet)
            urlpatterns = router.urls
            """,
        },
        {
            "NoteViewSet.partial_update": ("offloaded", False),
            "DirectViewSet.partial_update": ("offloaded", False),
            "ElsewhereViewSet.partial_update": ("inline", False),
        },
    )
