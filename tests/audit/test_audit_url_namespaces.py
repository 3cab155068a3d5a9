"""A URL list rebound to wrap itself in a namespace (PATTERNS.md round 7d, item 28):
``urlpatterns = [path("", include((urlpatterns, "app")))]`` after the list was built, then
``urlpatterns += [...]``. The name on the right is the list as it was; the audit read it as
the new list including itself and found none of its routes (and said nothing). Seen on a
project in no labelled set (linkding); snippets written for the audit."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task


    @shared_task
    def fetch_favicon(pk):
        return pk
"""
VIEWS = """
    from django.http import HttpResponse

    from app.tasks import fetch_favicon


    def index(request):
        return HttpResponse("")


    def new(request):
        fetch_favicon.delay(1)
        return HttpResponse("")


    def login(request):
        return HttpResponse("")


    def live_reload(request):
        return HttpResponse("")
"""
URLS = """
    from django.conf import settings
    from django.urls import include, path

    from app import views

    urlpatterns = [
        path("bookmarks", views.index),
        path("bookmarks/new", views.new),
    ]

    if settings.DEBUG:
        urlpatterns.append(path("live_reload", views.live_reload))

    urlpatterns = {wrapped}

    urlpatterns += [path("login", views.login)]
"""


@pytest.mark.parametrize(
    "wrapped",
    [
        '[path("", include((urlpatterns, "app")))]',
        '[path("app/", include(urlpatterns))]',
        '[path("", include((urlpatterns, "app"), namespace="app"))]',
    ],
    ids=["tuple", "plain", "namespace"],
)
def test_a_url_list_wrapping_itself_keeps_its_routes(run_audit, wrapped):
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": VIEWS,
            "app/urls.py": URLS.format(wrapped=wrapped),
            "app/settings.py": 'ROOT_URLCONF = "app.urls"\n',
        }
    )
    prefix = "/app" if "app/" in wrapped else ""
    routes = sorted((e.route, e.handler, e.status) for e in report.endpoints)
    assert routes == sorted(
        [
            (f"{prefix}/bookmarks", "index", "inline"),
            (f"{prefix}/bookmarks/new", "new", "offloaded"),
            (f"{prefix}/live_reload", "live_reload", "inline"),
            ("/login", "login", "inline"),
        ]
    ), routes
