"""``m2m_changed`` from either side of a many-to-many field (issue 14, round 5, pattern 4):
``tag.documents.add(d)`` and ``document.tags.add(t)`` (``related_name="tags"``) change the
same relation; a receiver may name its through model from either side, with the model
imported or looked up by name in ``AppConfig.ready()``; on a value of unknown type the
manager is that relation's when only one relation has the name. Snippets written for the
audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def reindex(pk):
        return pk
"""
MODELS = """
    from django.db import models

    class Document(models.Model):
        label = models.CharField(max_length=10)

    class Tag(models.Model):
        documents = models.ManyToManyField(to=Document, related_name="tags")

    class Cabinet(models.Model):
        documents = models.ManyToManyField(Document, related_name="cabinets")

    class Shelf(models.Model):
        documents = models.ManyToManyField(Document, related_name="+")
"""
HANDLERS = """
    from docs.tasks import reindex

    def handler_changed(sender, instance, action, **kwargs):
        reindex.delay(instance.pk)
"""
# the receiver is connected in ready(), for Tag.documents, Tag looked up by name
APPS = """
    from django.apps import AppConfig
    from django.db.models.signals import m2m_changed
    from docs.handlers import handler_changed

    class DocsConfig(AppConfig):
        name = "docs"

        def ready(self):
            Tag = self.get_model(model_name="Tag")
            m2m_changed.connect(
                receiver=handler_changed, sender=Tag.documents.through, dispatch_uid="tags"
            )
"""
VIEWS = """
    from docs.models import Cabinet, Document, Shelf, Tag

    def forward(request):
        Tag.objects.get(pk=1).documents.add(Document.objects.get(pk=2))

    def reverse(request):
        Document.objects.get(pk=2).tags.remove(Tag.objects.get(pk=1))

    def untyped(request):
        clear_tags(request.session["document"])

    def clear_tags(document):
        document.tags.clear()

    def cabinet(request):
        Cabinet.objects.get(pk=1).documents.add(Document.objects.get(pk=2))
        Document.objects.get(pk=2).cabinets.add(Cabinet.objects.get(pk=1))

    def shelf(request):
        Shelf.objects.get(pk=1).documents.add(Document.objects.get(pk=2))
"""
URLS = """
    from django.urls import path
    from docs import views

    urlpatterns = [
        path("a/", views.forward),
        path("b/", views.reverse),
        path("c/", views.untyped),
        path("d/", views.cabinet),
        path("e/", views.shelf),
    ]
"""


def docs(**more: str) -> dict[str, str]:
    files = {
        "docs/__init__.py": "",
        "docs/tasks.py": TASKS,
        "docs/models.py": MODELS,
        "docs/handlers.py": HANDLERS,
        "docs/apps.py": APPS,
        "docs/views.py": VIEWS,
        "docs/urls.py": URLS,
    }
    files.update(more)
    return files


def statuses(*offloaded: str) -> dict[str, tuple[str, bool]]:
    names = ("forward", "reverse", "untyped", "cabinet", "shelf")
    return {n: ("offloaded" if n in offloaded else "inline", False) for n in names}


def test_either_side_of_the_field_fires_its_receiver_looked_up_by_name(check):
    check(docs(), statuses("forward", "reverse", "untyped"))


def test_a_receiver_naming_the_through_model_from_the_other_side(check):
    # sender=Document.tags.through is Tag.documents' through model too
    apps = APPS.replace(
        'Tag = self.get_model(model_name="Tag")', "from docs.models import Document"
    )
    apps = apps.replace("sender=Tag.documents.through", "sender=Document.tags.through")
    check(docs(**{"docs/apps.py": apps}), statuses("forward", "reverse", "untyped"))


def test_a_receiver_without_sender_fires_for_every_relation_but_a_hidden_one(check):
    apps = APPS.replace(", sender=Tag.documents.through", "")
    # Shelf's relation has no manager on Document, but its own side still sends
    check(
        docs(**{"docs/apps.py": apps}),
        statuses("forward", "reverse", "untyped", "cabinet", "shelf"),
    )


def test_a_manager_name_two_relations_share_is_not_guessed_for_an_untyped_value(check):
    models = MODELS.replace('related_name="cabinets"', 'related_name="tags_too"').replace(
        "class Shelf(models.Model):\n        documents",
        "class Shelf(models.Model):\n        tags",
    )
    check(docs(**{"docs/models.py": models}), statuses("forward", "reverse"))


def test_no_receiver_for_that_relation_nothing_fires(check):
    apps = APPS.replace("sender=Tag.documents.through", "sender=Tag.documents_old.through")
    check(docs(**{"docs/apps.py": apps}), statuses())
