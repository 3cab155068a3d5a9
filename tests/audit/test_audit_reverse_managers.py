"""A foreign key's reverse manager (PATTERNS.md item 62): ``order.comments.create()`` for
``Comment.order = ForeignKey(Order, related_name="comments")`` saves a ``Comment``, and
``order.line_set.all()`` (no related name) yields ``Line`` rows, whose ``save()`` /
``delete()`` overrides run. ``related_name="+"`` gives no manager; a value of unknown type
gets none either. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task


    @shared_task
    def notify(pk):
        return pk
"""
MODELS = """
    from django.db import models

    from shop.tasks import notify


    class Order(models.Model):
        pass


    class PriorityOrder(Order):
        pass


    class Comment(models.Model):
        order = models.ForeignKey(Order, related_name="{related}", on_delete=models.CASCADE)

        def save(self, *args, **kwargs):
            super().save(*args, **kwargs)
            notify.delay(self.pk)


    class Line(models.Model):
        order = models.ForeignKey("Order", on_delete=models.CASCADE)

        def delete(self, *args, **kwargs):
            notify.delay(self.pk)
            return super().delete(*args, **kwargs)


    class Note(models.Model):
        pass
"""
VIEWS = """
    from shop.models import Note, Order, PriorityOrder


    def comment(request):
        order = Order.objects.get(pk=1)
        order.comments.create(text="x")


    def comment_priority(request):
        PriorityOrder.objects.get(pk=1).comments.create(text="x")


    def drop_lines(request):
        order = Order.objects.get(pk=1)
        for line in order.line_set.all():
            line.delete()


    def note_comments(request):
        Note.objects.get(pk=1).comments.create(text="x")


    def untyped(request, data):
        data["order"].comments.create(text="x")
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("a/", views.comment),
        path("b/", views.comment_priority),
        path("c/", views.drop_lines),
        path("d/", views.note_comments),
        path("e/", views.untyped),
    ]
"""


def shop(related: str) -> dict[str, str]:
    return {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS.format(related=related),
        "shop/views.py": VIEWS,
        "shop/urls.py": URLS,
    }


def test_reverse_managers_create_and_yield_rows_of_the_declaring_model(check):
    report = check(
        shop("comments"),
        {
            "comment": ("offloaded", False),
            "comment_priority": ("offloaded", False),  # the key points to a base
            "drop_lines": ("offloaded", False),  # line_set: the key has no related name
            "note_comments": ("inline", False),  # no key points to Note
            "untyped": ("inline", False),  # a name alone says nothing
        },
    )
    comment = next(e for e in report.endpoints if e.handler == "comment")
    [dispatch] = [e for e in comment.evidence if e.kind == "dispatch"]
    assert dispatch.via == ("shop/views.py:comment", "shop/models.py:Comment.save")
    assert comment.confidence == "certain"


def test_a_key_with_no_reverse_manager_gives_none(check):
    check(
        shop("+"),
        {
            "comment": ("inline", False),
            "comment_priority": ("inline", False),
            "drop_lines": ("offloaded", False),
            "note_comments": ("inline", False),
            "untyped": ("inline", False),
        },
    )
