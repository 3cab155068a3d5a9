"""DRF routers filled from tables of ``(prefix, ViewSet[, basename])`` rows (issue 14,
brief item 1): tables imported from other modules, ``router.register(*pair)`` in a loop,
and URL modules found by convention at run time (``import_module(f"{app}.urls")``).
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

from controlplane.migrations_audit.report import CERTAIN, LIKELY

TASKS = """
    from celery import shared_task

    @shared_task
    def index_book(pk):
        return pk
"""
BOOK_VIEWS = """
    from rest_framework import viewsets
    from proj.tasks import index_book

    class BookViewSet(viewsets.ModelViewSet):
        def perform_create(self, serializer):
            index_book.delay(serializer.save().pk)

    class AuthorViewSet(viewsets.ReadOnlyModelViewSet):
        pass
"""
SHELF_VIEWS = """
    from rest_framework import viewsets

    class ShelfViewSet(viewsets.ReadOnlyModelViewSet):
        pass
"""
BOOK_URLS = """
    from proj.books.views import AuthorViewSet, BookViewSet

    api_urlpatterns = [
        ("books", BookViewSet),
        ("authors", AuthorViewSet, "author"),
    ]
"""
SHELF_URLS = """
    from proj.shelf.views import ShelfViewSet

    api_urlpatterns = [("shelves", ShelfViewSet)]
"""
CONVENTION_LOOP = """
    from importlib import import_module

    from django.conf import settings
    from django.urls import include, path
    from rest_framework.routers import DefaultRouter

    router = DefaultRouter()
    for app in {apps}:
        try:
            urls = import_module(f"{{app}}.urls")
        except ImportError:
            continue
        for pair in getattr(urls, "api_urlpatterns", []):
            router.register(*pair)

    urlpatterns = [path("api/v1/", include(router.urls))]
"""


def project(apps: str, settings_apps: str = '["rest_framework", "proj.books"]') -> dict:
    return {
        "proj/__init__.py": "",
        "proj/settings.py": f'ROOT_URLCONF = "proj.urls"\nINSTALLED_APPS = {settings_apps}\n',
        "proj/tasks.py": TASKS,
        "proj/books/__init__.py": "",
        "proj/books/views.py": BOOK_VIEWS,
        "proj/books/urls.py": BOOK_URLS,
        "proj/shelf/__init__.py": "",
        "proj/shelf/views.py": SHELF_VIEWS,
        "proj/shelf/urls.py": SHELF_URLS,
        "proj/urls.py": CONVENTION_LOOP.format(apps=apps),
    }


def found(report):
    return {e.handler: (e.route, e.status, e.confidence) for e in report.endpoints}


def test_url_modules_of_the_installed_apps_fill_the_router(run_audit):
    # INSTALLED_APPS names proj.books, not proj.shelf: only the books' table is routed
    report = run_audit(project("settings.INSTALLED_APPS"))
    assert found(report) == {
        "BookViewSet.list": ("/api/v1/books/", "inline", CERTAIN),
        "BookViewSet.create": ("/api/v1/books/", "offloaded", CERTAIN),
        "BookViewSet.retrieve": ("/api/v1/books/{pk}/", "inline", CERTAIN),
        "BookViewSet.update": ("/api/v1/books/{pk}/", "inline", CERTAIN),
        "BookViewSet.partial_update": ("/api/v1/books/{pk}/", "inline", CERTAIN),
        "BookViewSet.destroy": ("/api/v1/books/{pk}/", "inline", CERTAIN),
        "AuthorViewSet.list": ("/api/v1/authors/", "inline", CERTAIN),
        "AuthorViewSet.retrieve": ("/api/v1/authors/{pk}/", "inline", CERTAIN),
    }


def test_a_literal_list_of_app_names_says_which_url_modules(run_audit):
    report = run_audit(project('["proj.shelf", "proj.missing"]'))
    assert found(report) == {
        "ShelfViewSet.list": ("/api/v1/shelves/", "inline", CERTAIN),
        "ShelfViewSet.retrieve": ("/api/v1/shelves/{pk}/", "inline", CERTAIN),
    }


def test_a_loop_over_something_unknown_uses_every_fitting_module_as_likely(run_audit):
    # app configs from the registry at run time: every proj.*.urls with the attribute
    files = project("apps.get_app_configs()")
    files["proj/urls.py"] = (
        files["proj/urls.py"]
        .replace('f"{app}.urls"', 'f"{app.name}.urls"')
        .replace("from django.conf import settings", "from django.apps import apps")
    )
    report = run_audit(files)
    routes = found(report)
    assert routes["BookViewSet.create"] == ("/api/v1/books/", "offloaded", LIKELY)
    assert routes["ShelfViewSet.list"] == ("/api/v1/shelves/", "inline", LIKELY)
    assert len(routes) == 10


def test_a_table_imported_from_another_module_unpacked_in_a_loop(run_audit):
    files = project("[]")
    files["proj/urls.py"] = """
    from django.urls import include, path
    from rest_framework.routers import SimpleRouter
    from proj.books.urls import api_urlpatterns as book_routes

    router = SimpleRouter()
    for prefix, viewset, *rest in book_routes:
        router.register(prefix, viewset, basename=rest[0] if rest else None)

    urlpatterns = [path("v2/", include(router.urls))]
    """
    report = run_audit(files)
    routes = found(report)
    assert routes["BookViewSet.create"] == ("/v2/books/", "offloaded", CERTAIN)
    assert routes["AuthorViewSet.retrieve"] == ("/v2/authors/{pk}/", "inline", CERTAIN)
    assert len(routes) == 8


def test_a_loop_over_a_table_that_is_not_rows_registers_nothing(run_audit):
    files = project("[]")
    files["proj/urls.py"] = """
    from django.urls import include, path
    from rest_framework.routers import SimpleRouter
    from proj.names import PREFIXES, viewset_for

    router = SimpleRouter()
    for prefix in PREFIXES:
        router.register(prefix, viewset_for(prefix))
    for pair in compute_pairs():
        router.register(*pair)

    urlpatterns = [path("v2/", include(router.urls))]
    """
    files["proj/names.py"] = """
    PREFIXES = ["books", "authors"]

    def viewset_for(prefix):
        return None
    """
    assert run_audit(files).endpoints == []


def test_rows_beside_url_patterns_read_into_a_variable_first(run_audit):
    # the attribute is read into a variable, and the table mixes rows with path()s
    files = project("get_apps()")
    files["proj/urls.py"] = """
    from importlib import import_module

    from django.urls import include, path
    from django.urls.resolvers import URLPattern
    from rest_framework.routers import DefaultRouter
    from proj.apps import get_apps

    router = DefaultRouter()
    other_urls = []
    for app in get_apps():
        try:
            module = import_module(f"{app.name}.urls")
        except ModuleNotFoundError:
            continue
        if not hasattr(module, "api_urlpatterns"):
            continue
        patterns: list = getattr(module, "api_urlpatterns")
        for entry in patterns:
            if isinstance(entry, URLPattern):
                other_urls.append(entry)
            else:
                router.register(*entry)

    urlpatterns = [path("api/", include(router.urls + other_urls))]
    """
    files["proj/apps.py"] = "def get_apps():\n    return []\n"
    files["proj/shelf/urls.py"] = """
    from django.urls import path
    from proj.shelf.views import ShelfViewSet

    def health(request):
        return None

    api_urlpatterns = [("shelves", ShelfViewSet), path("health/", health)]
    """
    routes = found(run_audit(files))
    assert routes["ShelfViewSet.list"] == ("/api/shelves/", "inline", LIKELY)
    assert routes["BookViewSet.create"] == ("/api/books/", "offloaded", LIKELY)
    # the path() beside the rows, appended element by element to another list
    assert routes["health"] == ("/api/health/", "inline", LIKELY)
    assert len(routes) == 11


API_VIEWS = """
    from rest_framework import generics
    from proj.tasks import index_book

    class APIBookList(generics.ListCreateAPIView):
        def perform_create(self, serializer):
            index_book.delay(serializer.save().pk)
"""


def url_lists_project(loop: str) -> dict:
    files = project("[]", settings_apps='["rest_framework", "proj.books"]')
    files["proj/books/api_views.py"] = API_VIEWS
    files["proj/books/urls.py"] = """
    from django.conf.urls import url
    from proj.books.api_views import APIBookList

    api_urls = [url(regex=r"^books/$", view=APIBookList.as_view(), name="book-list")]
    """
    files["proj/shelf/urls.py"] = """
    from django.urls import path
    from proj.shelf.views import ShelfViewSet

    api_urls = [path("shelves/", ShelfViewSet.as_view({"get": "list"}))]
    """
    files["proj/urls.py"] = loop
    return files


def test_url_lists_of_installed_apps_read_by_import_string(run_audit):
    report = run_audit(
        url_lists_project(
            """
    from django.conf import settings
    from django.urls import include, path
    from django.utils.module_loading import import_string

    api_patterns = []
    for app in settings.INSTALLED_APPS:
        try:
            app_urls = import_string(f"{app}.urls.api_urls")
        except ImportError:
            continue
        api_patterns.extend(app_urls)

    urlpatterns = [path("api/", include(api_patterns))]
    """
        )
    )
    # proj.shelf is not installed: its api_urls are not served
    assert found(report) == {
        "APIBookList.get": ("/api/books/", "inline", CERTAIN),
        "APIBookList.post": ("/api/books/", "offloaded", CERTAIN),
    }


def test_url_lists_appended_under_a_prefix_from_unknown_apps_are_likely(run_audit):
    report = run_audit(
        url_lists_project(
            """
    from importlib import import_module

    from django.apps import apps
    from django.urls import include, path

    urlpatterns = []
    for app in apps.get_app_configs():
        try:
            module = import_module(f"{app.name}.urls")
        except ImportError:
            continue
        if hasattr(module, "api_urls"):
            urlpatterns.append(path("api/v4/", include(module.api_urls)))
    """
        )
    )
    assert found(report) == {
        "APIBookList.get": ("/api/v4/books/", "inline", LIKELY),
        "APIBookList.post": ("/api/v4/books/", "offloaded", LIKELY),
        "ShelfViewSet.list": ("/api/v4/shelves/", "inline", LIKELY),
    }


def test_a_list_extended_with_something_else_in_such_a_loop_adds_nothing(run_audit):
    report = run_audit(
        url_lists_project(
            """
    from importlib import import_module

    from django.conf import settings

    urlpatterns = []
    for app in settings.INSTALLED_APPS:
        module = import_module(f"{app}.urls")
        urlpatterns.extend(make_patterns(app))
    """
        )
    )
    assert report.endpoints == []


def test_an_app_config_base_adds_each_apps_url_list_to_a_list_it_imports(run_audit):
    # ready() runs for every app whose config derives from the base: which apps is not
    # written down, so the modules that fit are used and the endpoints are likely
    files = url_lists_project(
        """
    from django.urls import include, path

    urlpatterns = [path("", include("proj.core.urls"))]
    """
    )
    files["proj/core/__init__.py"] = ""
    files["proj/core/urls.py"] = "urlpatterns = []\napi_patterns = []\n"
    files["proj/core/apps.py"] = """
    from django.apps import AppConfig
    from django.conf.urls import url
    from django.urls import include
    from django.utils.module_loading import import_string

    class BaseAppConfig(AppConfig):
        def ready(self):
            from proj.core.urls import api_patterns, urlpatterns

            try:
                api_urls = import_string(dotted_path="{}.urls.api_urls".format(self.name))
            except ImportError:
                pass
            else:
                api_patterns.extend(api_urls)
                urlpatterns += (url(regex=r"^api/", view=include((api_urls, "api"))),)
    """
    routes = found(run_audit(files))
    assert routes == {
        "APIBookList.get": ("/api/books/", "inline", LIKELY),
        "APIBookList.post": ("/api/books/", "offloaded", LIKELY),
        "ShelfViewSet.list": ("/api/shelves/", "inline", LIKELY),
    }


def test_a_router_subclass_that_maps_bulk_methods_on_the_list_route(run_audit):
    # the djangorestframework-bulk idiom: routes[0] (the list route) gains PUT/DELETE
    files = project("[]")
    files["proj/routers.py"] = """
    from rest_framework.routers import DefaultRouter

    class BulkRouter(DefaultRouter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.routes[0].mapping.update({"put": "bulk_update", "delete": "bulk_destroy"})
    """
    files["proj/books/views.py"] = (
        BOOK_VIEWS
        + """
    class BulkMixin:
        def bulk_update(self, request):
            index_book.delay(0)

    class ShelfListViewSet(BulkMixin, viewsets.ReadOnlyModelViewSet):
        pass
    """
    )
    files["proj/urls.py"] = """
    from django.urls import include, path
    from proj.books.views import AuthorViewSet, ShelfListViewSet
    from proj.routers import BulkRouter

    router = BulkRouter()
    router.register("shelves", ShelfListViewSet)
    router.register("authors", AuthorViewSet)
    urlpatterns = [path("api/", include(router.urls))]
    """
    routes = found(run_audit(files))
    assert routes["ShelfListViewSet.bulk_update"] == ("/api/shelves/", "offloaded", CERTAIN)
    assert "ShelfListViewSet.bulk_destroy" not in routes  # no such method: no endpoint
    assert not any(h.startswith("AuthorViewSet.bulk") for h in routes)
    assert len(routes) == 5


def test_a_routed_class_replaced_by_its_default_class_when_instantiated(run_audit):
    # class BookViewSet(OverridableObject): _default_class = BookViewSetBase, and the base
    # builds its instance from cls._default_class: the router serves BookViewSetBase
    files = project("[]")
    files["proj/extend.py"] = """
    def get_override_class(proxy, default):
        return default

    class OverridableObject:
        _default_class = None

        def __new__(cls, *args, **kwargs):
            return get_override_class(cls, cls._default_class)(*args, **kwargs)

    class Plain:
        _default_class = None
    """
    files["proj/books/views.py"] = (
        BOOK_VIEWS.replace(
            "class BookViewSet(viewsets.ModelViewSet):",
            "class BookViewSetBase(viewsets.ModelViewSet):",
        )
        + """
    from proj.extend import OverridableObject, Plain

    class BookViewSet(OverridableObject):
        _default_class = BookViewSetBase

    class NotAProxy(Plain):
        _default_class = BookViewSetBase
    """
    )
    files["proj/urls.py"] = """
    from django.urls import include, path
    from rest_framework.routers import SimpleRouter
    from proj.books.views import BookViewSet, NotAProxy

    router = SimpleRouter()
    router.register("books", BookViewSet)
    router.register("odd", NotAProxy)
    urlpatterns = [path("api/", include(router.urls))]
    """
    report = run_audit(files)
    routes = found(report)
    assert routes["BookViewSet.create"] == ("/api/books/", "offloaded", CERTAIN)
    assert routes["BookViewSet.retrieve"] == ("/api/books/{pk}/", "inline", CERTAIN)
    assert len(routes) == 6  # nothing for NotAProxy: no __new__ builds it from the attribute
    create = next(e for e in report.endpoints if e.handler == "BookViewSet.create")
    assert create.file == "proj/books/views.py"
