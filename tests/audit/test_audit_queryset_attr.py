"""Rows of a routed class's ``queryset`` class attribute are instances of its model.

Snippets of audited projects (source text only, nothing runs): a generic base view's
``for obj in self.queryset.filter(...): obj.save()`` saves the model of the routed
subclass's ``queryset = Model.objects.all()``, so that model's signal receivers run; a
subclass whose model has none stays inline, and a loop over a plain ``self.`` list is
judged as before.
"""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def sync(pk):
        return pk
"""

MODELS = """
    from django.db import models
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from tasks import sync


    class Source(models.Model):
        name = models.CharField(max_length=10)


    class Plain(models.Model):
        name = models.CharField(max_length=10)


    @receiver(post_save, sender=Source)
    def enqueue(sender, instance, **kwargs):
        sync.delay(instance.pk)
"""

VIEWS = """
    from django.views import View
    from models import Source, Plain


    class BulkRenameView(View):
        queryset = None

        def post(self, request):
            selected = self.queryset.filter(pk__in=request.POST.getlist("pk"))
            for obj in selected:
                obj.name = "x"
                obj.save()
            return None


    class SourceRenameView(BulkRenameView):
        queryset = Source.objects.all()


    class PlainRenameView(BulkRenameView):
        queryset = Plain.objects.all()
"""

URLS = """
    from django.urls import path
    from views import SourceRenameView, PlainRenameView

    urlpatterns = [
        path("s/rename/", SourceRenameView.as_view()),
        path("p/rename/", PlainRenameView.as_view()),
    ]
"""


def test_rows_of_the_routed_class_queryset_are_its_model(check):
    files = {"tasks.py": TASKS, "models.py": MODELS, "views.py": VIEWS, "urls.py": URLS}
    check(
        files,
        {
            "SourceRenameView.post": ("offloaded", False),
            "PlainRenameView.post": ("inline", False),
        },
    )


def test_a_loop_over_a_plain_list_attribute_saves_no_model(check):
    views = VIEWS.replace("selected = self.queryset.filter(", "selected = self.names(").replace(
        "queryset = None\n", "queryset = None\n        names = list\n"
    )
    files = {"tasks.py": TASKS, "models.py": MODELS, "views.py": views, "urls.py": URLS}
    check(
        files,
        {"SourceRenameView.post": ("inline", False), "PlainRenameView.post": ("inline", False)},
    )
