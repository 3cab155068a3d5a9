"""A module-level alias of a class-based view named in a URL list (PATTERNS.md item 67):
``template_list = TemplateListView.as_view()`` in ``views.py``, then
``path("templates/", views.template_list)``, is the class's view, as if the call were
written in the list. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task


    @shared_task
    def render_template(pk):
        return pk
"""
VIEWS = """
    from django.http import JsonResponse
    from django.views import View

    from proj.tasks import render_template


    class TemplateRenderView(View):
        def post(self, request, pk):
            render_template.delay(pk)
            return JsonResponse({})


    class TemplateDetailView(View):
        def get(self, request, pk):
            return JsonResponse({"pk": pk})


    template_render = TemplateRenderView.as_view()
    template_detail = TemplateDetailView.as_view()
    not_a_view = len("abc")
"""


def project(urls: str) -> dict[str, str]:
    return {
        "settings.py": "ROOT_URLCONF = 'urls'\n",
        "urls.py": """
            from django.urls import include, path

            urlpatterns = [path("api/", include("proj.urls"))]
        """,
        "proj/__init__.py": "",
        "proj/tasks.py": TASKS,
        "proj/views.py": VIEWS,
        "proj/urls.py": urls,
    }


def test_aliases_through_the_module_are_the_classes_views(check) -> None:
    report = check(
        project(
            """
            from django.urls import path

            from proj import views

            urlpatterns = [
                path("templates/<int:pk>/render/", views.template_render),
                path("templates/<int:pk>/", views.template_detail),
            ]
            """
        ),
        {
            "TemplateRenderView.post": ("offloaded", False),
            "TemplateDetailView.get": ("inline", False),
        },
    )
    assert {e.route for e in report.endpoints} == {
        "/api/templates/<int:pk>/render/",
        "/api/templates/<int:pk>/",
    }
    assert report.unrecognized == []


def test_aliases_imported_by_name_are_the_classes_views(check) -> None:
    check(
        project(
            """
            from django.urls import path

            from proj.views import template_render

            urlpatterns = [path("templates/<int:pk>/render/", template_render)]
            """
        ),
        {"TemplateRenderView.post": ("offloaded", False)},
    )


def test_a_variable_holding_something_else_stays_not_understood(check) -> None:
    report = check(
        project(
            """
            from django.urls import path

            from proj import views

            urlpatterns = [path("length/", views.not_a_view)]
            """
        ),
        {},
    )
    [unrecognized] = report.unrecognized
    assert unrecognized.reason == "view not found"
