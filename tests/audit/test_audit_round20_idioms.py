"""Shapes round 20 found read wrong (PATTERNS.md items 232-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations

MODELS = """
from django.db import models
from shop.tasks import ping


class Hook(models.Model):
    def notify(self):
        ping.delay(self.pk)


class Note(models.Model):
    def notify(self):
        return self.pk
"""
TASKS = """
from celery import shared_task


@shared_task
def ping(pk):
    return pk
"""


def test_an_element_of_a_returned_tuple_is_what_the_function_returns_there(check):
    """Item 232: ``x, y = helper()`` binds ``x`` to element 0 of the helper's ``return a, b``
    (or of its ``tuple[A, B]`` annotation), on functions and methods; a task picked that way
    is the task. The other class's ``notify`` does nothing, so a wrong element would show."""
    report = check(
        {
            "shop/models.py": MODELS,
            "shop/tasks.py": TASKS,
            "shop/helpers.py": """
            from shop.models import Hook, Note
            from shop.tasks import ping


            def make_hook(url):
                hook = Hook(url=url)
                return hook, True


            def make_note():
                return Note(), False


            def declared(url) -> tuple[Hook, bool]:
                return lookup(url)


            def lookup(url):
                return None


            def pick(kind):
                return ping, (kind,)
            """,
            "shop/views.py": """
            from django.http import JsonResponse
            from django.views import View
            from shop.helpers import declared, make_hook, make_note, pick
            from shop.models import Hook, Note


            def hooked(request):
                hook, created = make_hook(request.POST["url"])
                hook.notify()
                return JsonResponse({})


            def noted(request):
                note, created = make_note()
                note.notify()
                return JsonResponse({})


            def annotated(request):
                hook, _ = declared("x")
                hook.notify()
                return JsonResponse({})


            def picked(request):
                task, args = pick("a")
                task.delay(*args)
                return JsonResponse({})


            class Pair(View):
                def pair(self):
                    return Note(), Hook()

                def post(self, request):
                    first, second = self.pair()
                    first.notify()
                    return JsonResponse({})

                def put(self, request):
                    first, second = self.pair()
                    second.notify()
                    return JsonResponse({})
            """,
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [
                path("h", views.hooked),
                path("n", views.noted),
                path("a", views.annotated),
                path("p", views.picked),
                path("pair", views.Pair.as_view()),
            ]
            """,
        },
        {
            "hooked": ("offloaded", False),
            "noted": ("inline", False),
            "annotated": ("offloaded", False),
            "picked": ("offloaded", False),
            "Pair.post": ("inline", False),
            "Pair.put": ("offloaded", False),
        },
    )
    assert {e.confidence for e in report.endpoints} == {"certain"}


def test_an_element_of_a_tuple_nothing_describes_stays_unknown(check):
    """Item 232, negative: the elements of a library call's tuple, and a starred target,
    are not known, so the method is still matched by its name (a guess, ``likely``)."""
    report = check(
        {
            "shop/models.py": MODELS,
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            import os
            from django.http import JsonResponse
            from shop.models import Hook, Note


            def both():
                return Note(), Hook()


            def library(request):
                head, tail = os.path.split(request.path)
                head.notify()
                return JsonResponse({})


            def starred(request):
                first, *rest = both()
                first.notify()
                return JsonResponse({})
            """,
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("l", views.library), path("s", views.starred)]
            """,
        },
        {"library": ("offloaded", False), "starred": ("offloaded", False)},
    )
    assert {e.confidence for e in report.endpoints} == {"likely"}
