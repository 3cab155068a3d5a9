"""DRF generic views behind a project layer (issue 14, round 5c item 10): a project module
``generics.py`` subclasses DRF's generic views under the same names, and a routed class
``class ImageView(ImageViewMixin, generics.RetrieveAPIView)`` gets ``retrieve`` from a
project mixin. GET runs DRF's ``get -> self.retrieve`` (``self.list`` on a list view), so the
mixin's override. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def render(pk):
        return pk
"""
LAYER = """
    from rest_framework import generics
    from core.mixins import ExternalObjectMixin

    class RetrieveAPIView(ExternalObjectMixin, generics.RetrieveAPIView):
        pass

    class ListAPIView(ExternalObjectMixin, generics.ListAPIView):
        pass

    class RetrieveUpdateDestroyAPIView(ExternalObjectMixin, generics.RetrieveUpdateDestroyAPIView):
        pass
"""
MIXINS = """
    from tasks import render

    class RetrieveRenders:
        def retrieve(self, request, *args, **kwargs):
            render.delay(1)
            return "queued"

    class ListRenders:
        def list(self, request, *args, **kwargs):
            render.delay(2)
            return "queued"

    class DestroyRenders:
        def destroy(self, request, *args, **kwargs):
            render.delay(3)
            return "queued"
"""


def project(views: str, names: str) -> dict[str, str]:
    routes = "\n".join(f'        path("{n.lower()}/", {n}.as_view()),' for n in names.split(", "))
    return {
        "tasks.py": TASKS,
        "core/__init__.py": "",
        "core/mixins.py": """
        class ExternalObjectMixin:
            def get_external(self):
                return None
        """,
        "core/generics.py": LAYER,
        "images/__init__.py": "",
        "images/mixins.py": MIXINS,
        "images/views.py": views,
        "images/urls.py": f"""
    from django.urls import path
    from images.views import {names}

    urlpatterns = [
{routes}
    ]
    """,
    }


def test_get_on_a_project_generic_view_runs_the_mixin_s_retrieve_or_list(check):
    views = """
    from core import generics
    from images.mixins import DestroyRenders, ListRenders, RetrieveRenders

    class ImageView(RetrieveRenders, generics.RetrieveAPIView):
        pass

    class ImageList(ListRenders, generics.ListAPIView):
        pass

    class ImageEdit(DestroyRenders, generics.RetrieveUpdateDestroyAPIView):
        pass
    """
    check(
        project(views, "ImageView, ImageList, ImageEdit"),
        {
            "ImageView.get": ("offloaded", False),
            "ImageList.get": ("offloaded", False),
            "ImageEdit.get": ("inline", False),
            "ImageEdit.put": ("inline", False),
            "ImageEdit.patch": ("inline", False),
            "ImageEdit.delete": ("offloaded", False),
        },
    )


def test_get_runs_only_the_action_the_generic_view_answers_get_with(check):
    """A list view's GET runs ``list``, never a ``retrieve`` a mixin defines (nor the
    reverse); a view without the override stays inline."""
    views = """
    from core import generics
    from images.mixins import ListRenders, RetrieveRenders

    class ImageList(RetrieveRenders, generics.ListAPIView):
        pass

    class ImageView(ListRenders, generics.RetrieveAPIView):
        pass

    class PlainView(generics.RetrieveAPIView):
        pass
    """
    check(
        project(views, "ImageList, ImageView, PlainView"),
        {
            "ImageList.get": ("inline", False),
            "ImageView.get": ("inline", False),
            "PlainView.get": ("inline", False),
        },
    )


def test_get_on_drf_s_own_generic_view_runs_the_mixin_s_retrieve(check):
    views = """
    from rest_framework import generics
    from images.mixins import RetrieveRenders

    class ImageView(RetrieveRenders, generics.RetrieveAPIView):
        pass
    """
    check(project(views, "ImageView"), {"ImageView.get": ("offloaded", False)})
