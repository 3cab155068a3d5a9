"""Framework idioms a round-12 spot check found read wrong (PATTERNS.md items 88-94).
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def reindex(pk):
        return pk
"""


def test_patch_runs_the_viewset_s_own_update(check):
    """Item 88: DRF's ``partial_update`` is ``self.update(..., partial=True)``, so an
    ``update()`` override runs on PATCH as on PUT; a viewset without one stays inline."""
    check(
        {
            "tasks.py": TASKS,
            "views.py": """
            from rest_framework import viewsets
            from tasks import reindex

            class EntryViewSet(viewsets.ModelViewSet):
                def update(self, request, *args, **kwargs):
                    response = super().update(request, *args, **kwargs)
                    reindex.delay(kwargs["pk"])
                    return response

            class NoteViewSet(viewsets.ModelViewSet):
                pass
            """,
            "urls.py": """
            from rest_framework.routers import DefaultRouter
            from views import EntryViewSet, NoteViewSet

            router = DefaultRouter()
            router.register("entries", EntryViewSet)
            router.register("notes", NoteViewSet)
            urlpatterns = router.urls
            """,
        },
        {
            "EntryViewSet.update": ("offloaded", False),
            "EntryViewSet.partial_update": ("offloaded", False),
            "NoteViewSet.update": ("inline", False),
            "NoteViewSet.partial_update": ("inline", False),
            "EntryViewSet.create": ("inline", False),
            "EntryViewSet.destroy": ("inline", False),
            "EntryViewSet.list": ("inline", False),
            "EntryViewSet.retrieve": ("inline", False),
            "NoteViewSet.create": ("inline", False),
            "NoteViewSet.destroy": ("inline", False),
            "NoteViewSet.list": ("inline", False),
            "NoteViewSet.retrieve": ("inline", False),
        },
    )
