"""An attribute a base class's method sets from a call on ``self`` (``self.object =
self.get_object()`` in ``dispatch``) is read on the routed subclass: its value is resolved
with ``self`` that subclass, whose ``model`` the base's ``get_object()`` reads (PATTERNS.md
item 30). Snippets written for the audit."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def cleanup(path):
        return path
"""
MODELS = """
    from django.db import models
    from app.tasks import cleanup

    class Note(models.Model):
        def delete(self, *args, **kwargs):
            cleanup.delay("notes/")
            return super().delete(*args, **kwargs)

    class Tag(models.Model):
        def delete(self, *args, **kwargs):
            return super().delete(*args, **kwargs)
"""
VIEWS = """
    from django.shortcuts import get_object_or_404
    from django.views import View
    from app.models import Note, Tag

    class CRUDView(View):
        model = None
        object = None
        lookup_field = "pk"

        def get_queryset(self):
            return self.model._default_manager.all()

        def get_object(self):
            queryset = self.get_queryset()
            return get_object_or_404(queryset, **{self.lookup_field: self.kwargs["pk"]})

        def dispatch(self, request, *args, **kwargs):
            if request.method != "GET":
                self.object = self.get_object()
            return super().dispatch(request, *args, **kwargs)

        def post(self, request, *args, **kwargs):
            self.object.delete()
            return None

    class NoteView(CRUDView):
        model = Note

        def get_queryset(self):
            return self.request.event.notes.all().order_by("pk")

    class TagView(CRUDView):
        model = Tag

    class PlainView(CRUDView):
        def get_object(self):
            return self.request.user
"""
URLS = """
    from django.urls import path
    from app.views import NoteView, PlainView, TagView

    urlpatterns = [
        path("notes/<int:pk>/delete", NoteView.as_view()),
        path("tags/<int:pk>/delete", TagView.as_view()),
        path("plain/<int:pk>/delete", PlainView.as_view()),
    ]
"""


def test_a_base_s_attribute_set_from_self_is_typed_by_the_routed_subclass(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/models.py": MODELS,
            "app/views.py": VIEWS,
            "app/urls.py": URLS,
        },
        {
            "NoteView.post": ("offloaded", False),  # the subclass's model schedules cleanup
            "TagView.post": ("inline", False),  # its model's delete does not
            "PlainView.post": ("inline", False),  # its own get_object: not a Note
        },
    )
