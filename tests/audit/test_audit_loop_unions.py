"""Loop variables over a literal list of different values (PATTERNS.md item 61):
``for entry, detail in [(Note.objects.filter(), False), (Resource.objects.filter(), True)]:
for obj in entry: obj.delete()`` reaches ``Resource.delete``, whose override enqueues. Each
column of the list is a value the variable takes; a method called on it is one call per
value. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task


    @shared_task
    def cleanup(pk):
        return pk
"""
MODELS = """
    from django.db import models

    from shop.tasks import cleanup


    class Resource(models.Model):
        def delete(self, *args, **kwargs):
            cleanup.delay(self.pk)
            return super().delete(*args, **kwargs)


    class Note(models.Model):
        pass


    class Slot(models.Model):
        pass
"""
VIEWS = """
    from shop.models import Note, Resource, Slot


    def shred(request):
        order = [
            (Note.objects.filter(pk=1), False),
            ({model}.objects.filter(pk=2), True),
        ]
        for entry, detail in order:
            if detail:
                for obj in entry:
                    obj.delete()
            else:
                entry.delete()


    def shred_each(request):
        for rows in [Note.objects.filter(pk=1), {model}.objects.filter(pk=2)]:
            for row in rows:
                row.delete()


    def shred_one(request):
        for rows in [Note.objects.filter(pk=1), Note.objects.filter(pk=2)]:
            for row in rows:
                row.delete()
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("a/", views.shred),
        path("b/", views.shred_each),
        path("c/", views.shred_one),
    ]
"""


def shop(model: str) -> dict[str, str]:
    return {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/views.py": VIEWS.format(model=model),
        "shop/urls.py": URLS,
    }


def test_a_loop_over_a_literal_list_of_querysets_reaches_each_models_delete(check):
    report = check(
        shop("Resource"),
        {
            "shred": ("offloaded", False),
            "shred_each": ("offloaded", False),
            "shred_one": ("inline", False),
        },
    )
    shred = next(e for e in report.endpoints if e.handler == "shred")
    assert shred.confidence == "certain"
    [dispatch] = [e for e in shred.evidence if e.kind == "dispatch"]
    assert dispatch.via == ("shop/views.py:shred", "shop/models.py:Resource.delete")


def test_a_list_of_models_none_of_which_dispatches_stays_inline(check):
    check(
        shop("Slot"),
        {
            "shred": ("inline", False),
            "shred_each": ("inline", False),
            "shred_one": ("inline", False),
        },
    )


@pytest.mark.parametrize(("callee", "status"), [("notify", "offloaded"), ("plain", "inline")])
def test_a_literal_table_of_functions_called_in_a_loop_calls_each(check, callee, status):
    files = {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/views.py": f"""
            from shop.tasks import cleanup


            def notify(pk):
                cleanup.delay(pk)


            def plain(pk):
                return pk


            def log(pk):
                return pk


            def run_all(request):
                for label, step in [("first", log), ("second", {callee})]:
                    step(1)
        """,
        "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("a/", views.run_all)]
        """,
    }
    check(files, {"run_all": (status, False)})
