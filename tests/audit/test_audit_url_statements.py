"""Django URL lists built by statements rather than written as one literal (issue 14,
round 5, pattern 2): ``api_urls = []`` then ``api_urls.extend(api_urls_books)``,
``.append(path(...))``, ``+= [...]``, also under ``if settings.X:``, the list then read by
convention from every app, included by name or imported. What such a list gains that the
audit cannot read is reported as an unrecognised registration. Snippets written for the
audit, not copied from a project."""

from __future__ import annotations

from controlplane.migrations_audit.report import CERTAIN, LIKELY

TASKS = """
    from celery import shared_task

    @shared_task
    def index_book(pk):
        return pk
"""
API_VIEWS = """
    from rest_framework import generics
    from proj.tasks import index_book

    class APIBookList(generics.ListCreateAPIView):
        def perform_create(self, serializer):
            index_book.delay(serializer.save().pk)

    class APIBookDetail(generics.RetrieveAPIView):
        pass

    class APIBookExport(generics.GenericAPIView):
        def post(self, request):
            index_book.delay(0)
"""
# the app's URL module: small literal lists joined into one started empty
BOOK_URLS = """
    from django.conf import settings
    from django.urls import re_path
    from proj.books.api_views import APIBookDetail, APIBookExport, APIBookList

    api_urls_books = [re_path(route=r"^books/$", view=APIBookList.as_view())]
    api_urls_detail = [re_path(route=r"^books/(?P<pk>[0-9]+)/$", view=APIBookDetail.as_view())]

    api_urls = []
    api_urls.extend(api_urls_books)
    api_urls += api_urls_detail
    if settings.BOOK_EXPORT:
        api_urls.append(re_path(route=r"^books/export/$", view=APIBookExport.as_view()))
"""
REST_URLS = """
    from django.urls import include, re_path

    api_version_urls = []
    urlpatterns = [re_path(route=r"^api/v1/", view=include(api_version_urls))]
"""
# every app's ``api_urls``, read by convention when the REST app is ready
REST_APPS = """
    from django.apps import AppConfig, apps
    from django.utils.module_loading import import_string

    class RestConfig(AppConfig):
        name = "proj.rest"

        def ready(self):
            from proj.rest.urls import api_version_urls

            for app in apps.get_app_configs():
                try:
                    app_api_urls = import_string("{}.urls.api_urls".format(app.name))
                except ImportError:
                    continue
                api_version_urls.extend(app_api_urls)
"""


def project(book_urls: str = BOOK_URLS) -> dict[str, str]:
    return {
        "proj/__init__.py": "",
        "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\nBOOK_EXPORT = True\n',
        "proj/tasks.py": TASKS,
        "proj/urls.py": (
            "from django.urls import include, path\n\n"
            'urlpatterns = [path("", include("proj.rest.urls"))]\n'
        ),
        "proj/rest/__init__.py": "",
        "proj/rest/urls.py": REST_URLS,
        "proj/rest/apps.py": REST_APPS,
        "proj/books/__init__.py": "",
        "proj/books/api_views.py": API_VIEWS,
        "proj/books/urls.py": book_urls,
    }


def found(report):
    return {e.handler: (e.route, e.status, e.confidence) for e in report.endpoints}


def test_a_list_started_empty_and_extended_is_read_from_every_app(run_audit):
    # which apps have a REST API is only known at run time: the endpoints are likely
    report = run_audit(project())
    assert found(report) == {
        "APIBookList.get": ("/api/v1/books/", "inline", LIKELY),
        "APIBookList.post": ("/api/v1/books/", "offloaded", LIKELY),
        "APIBookDetail.get": ("/api/v1/books/(?P<pk>[0-9]+)/", "inline", LIKELY),
        "APIBookExport.post": ("/api/v1/books/export/", "offloaded", LIKELY),
    }
    assert report.unrecognized == []


def test_a_list_built_by_statements_included_by_name(run_audit):
    files = project()
    del files["proj/rest/apps.py"]
    files["proj/rest/urls.py"] = """
    from django.urls import include, path
    from proj.books.urls import api_urls

    urlpatterns = [path("api/", include(api_urls))]
    """
    routes = found(run_audit(files))
    assert routes["APIBookList.post"] == ("/api/books/", "offloaded", CERTAIN)
    assert routes["APIBookExport.post"] == ("/api/books/export/", "offloaded", CERTAIN)
    assert len(routes) == 4


def test_a_list_started_empty_and_extended_with_other_values_is_no_url_list(run_audit):
    # strings and a local list of names: not URL patterns, nothing routed, nothing reported
    files = project(
        BOOK_URLS.split("api_urls = []")[0]
        + """
    NAMES = ["books"]
    api_urls = []
    api_urls.extend(NAMES)
    api_urls.append("authors")
    api_urls += ["shelves"]
    """
    )
    report = run_audit(files)
    assert found(report) == {}
    assert report.unrecognized == []


def test_what_a_url_list_gains_that_cannot_be_read_is_reported(run_audit):
    files = project(
        BOOK_URLS
        + """
    api_urls += [re_path(f"^{name}/$", APIBookDetail.as_view()) for name in ("a", "b")]
    api_urls.append(api_urls_books[0])
    """
    )
    report = run_audit(files)
    assert len(found(report)) == 4  # the readable entries are still routed
    unread = sorted((u.file, u.line, u.reason.split(",")[0]) for u in report.unrecognized)
    assert unread == [
        ("proj/books/urls.py", 14, "added to a URL list"),
        ("proj/books/urls.py", 15, "added to a URL list"),
    ]
    assert "api_urls_books[0]" in {u.call for u in report.unrecognized}
