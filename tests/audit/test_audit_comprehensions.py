"""A loop's or a comprehension's variable is an element of what it iterates (issue 14,
PATTERNS.md round 9, item 42): ``[s.thumb() for s in Tag.objects.filter(...)]`` calls the
model's method on each row, as the ``for`` loop does; a comprehension's variable exists only
inside it. Snippets written for the audit (source text only, nothing runs)."""

from __future__ import annotations

import pytest

from tests.audit.test_audit_dispatch import TASKS

MODELS = """
    from django.db import models
    from shop.tasks import crunch


    class Tag(models.Model):
        name = models.CharField(max_length=10)

        def thumb(self):
            crunch.delay(self.pk)
            return self.name


    class Note(models.Model):
        name = models.CharField(max_length=10)

        def thumb(self):
            return self.name


    class Label:
        def thumb(self):
            return ""


    def visible_tags(user):
        return Tag.objects.filter(name=user)
"""


def files(body: str) -> dict[str, str]:
    handler = "\n".join("        " + line for line in body.strip().splitlines())
    return {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/views.py": f"""
    from rest_framework.decorators import api_view
    from rest_framework.response import Response
    from shop.models import Label, Note, Tag, visible_tags


    @api_view(["GET"])
    def listing(request):
{handler}
""",
        "shop/urls.py": """
    from django.urls import path
    from shop import views

    urlpatterns = [path("tags/", views.listing)]
""",
    }


@pytest.mark.parametrize(
    "body",
    [
        'return Response([t.thumb() for t in Tag.objects.filter(name="x")])',
        "return Response({t.pk: t.thumb() for t in Tag.objects.all()})",
        "return Response(list(t.thumb() for t in Tag.objects.all()))",
        "return Response({t.thumb() for t in Tag.objects.all() if t.name})",
        "tags = visible_tags(request.user)[:8]\nreturn Response([t.thumb() for t in tags])",
        "return Response([n.thumb() for t in Note.objects.all() for n in Tag.objects.all()])",
        "out = []\nfor t in visible_tags(request.user):\n    out.append(t.thumb())\n"
        "return Response(out)",
    ],
)
def test_a_method_called_on_each_row_is_the_models(check, body):
    report = check(files(body), {"listing": ("offloaded", False)})
    [endpoint] = report.endpoints
    assert endpoint.confidence == "certain"  # followed, not guessed among the thumb()s


@pytest.mark.parametrize(
    "body",
    [
        "return Response([t.thumb() for t in Note.objects.all()])",
        # the comprehension's t is gone after it: t is the Note again
        "t = Note()\nnames = [t.name for t in Tag.objects.all()]\nreturn Response(t.thumb())",
        "return Response([t.thumb() for t in [Label(), Label()]])",
    ],
)
def test_rows_of_other_classes_and_names_outside_the_comprehension(check, body):
    check(files(body), {"listing": ("inline", False)})
