"""A Django class-based view whose own ``dispatch`` answers the request (issue 14,
PATTERNS.md round 9, item 46): no ``get``/``post``, no per-verb lookup, no hand-over to
``View.dispatch``; the route's endpoint is ``Cls.dispatch``. Snippets written for the audit
(source text only, nothing runs)."""

from __future__ import annotations

import pytest

from tests.audit.test_audit_dispatch import TASKS

VIEWS = """
    from django.http import HttpResponse, HttpResponseRedirect
    from django.views import View
    from shop.tasks import crunch


    class Wizard(View):
        http_method_names = ["get", "post", "options"]

        def dispatch(self, request, *args, **kwargs):
            if request.method == "POST":
                crunch.delay(kwargs["step"])
                return HttpResponseRedirect("/done")
            return HttpResponse("step")


    class Anything(View):
        def dispatch(self, request, *args, **kwargs):
            return HttpResponse("ok")


    class Checked(View):
        def dispatch(self, request, *args, **kwargs):
            if not request.user.is_authenticated:
                return HttpResponse(status=403)
            return super().dispatch(request, *args, **kwargs)
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("wizard/<step>/", views.Wizard.as_view()),
        path("anything/", views.Anything.as_view()),
        path("checked/", views.Checked.as_view()),
    ]
"""


@pytest.fixture
def report(run_audit):
    files = {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/views.py": VIEWS,
        "shop/urls.py": URLS,
    }
    return run_audit(files)


def test_a_dispatch_that_answers_itself_is_the_endpoint(report):
    found = {e.handler: (list(e.methods), e.status) for e in report.endpoints}
    assert found == {
        "Wizard.dispatch": (["GET", "POST"], "offloaded"),  # its http_method_names
        "Anything.dispatch": (["ANY"], "inline"),
    }


def test_a_dispatch_handing_over_to_views_dispatch_answers_nothing_it_lacks(report):
    [unread] = report.unrecognized
    assert "class Checked answers no HTTP method" in unread.reason
