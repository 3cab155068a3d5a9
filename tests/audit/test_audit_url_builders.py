"""URL patterns returned by a project function called in a URLconf (issue 14, brief items
3 and 4): a classmethod building ``path()``s with ``cls.as_view``, and a function given the
view class. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

from controlplane.migrations_audit.report import LIKELY

TASKS = """
    from celery import shared_task

    @shared_task
    def notify(pk):
        return pk
"""
GENERIC = """
    from django.urls import path
    from django.views import View


    class CRUDView(View):
        def get(self, request, *args, **kwargs):
            return None

        def post(self, request, *args, **kwargs):
            self.save_object()

        def save_object(self):
            pass

        @classmethod
        def get_urls(cls, url_base, name):
            return [
                path(f"{url_base}/", cls.as_view(action="list"), name=f"{name}.list"),
                path(f"{url_base}/<int:pk>/", cls.as_view(action="detail"), name=name),
            ]


    def crud_urls(url_base, view):
        return [path(f"{url_base}/", view.as_view(), name=url_base)]
"""
VIEWS = """
    from proj.generic import CRUDView
    from proj.tasks import notify


    class TalkView(CRUDView):
        def save_object(self):
            notify.delay(1)


    class RoomView(CRUDView):
        def get(self, request, *args, **kwargs):
            return None
"""


def run(run_audit, urls: str):
    return run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/tasks.py": TASKS,
            "proj/generic.py": GENERIC,
            "proj/views.py": VIEWS,
            "proj/urls.py": urls,
        }
    )


def found(report):
    return {e.handler: (e.file, e.route, e.status, e.confidence) for e in report.endpoints}


def test_a_classmethod_and_a_function_that_build_patterns_route_their_views(run_audit):
    report = run(
        run_audit,
        """
        from django.urls import include, path
        from proj import generic, views

        urlpatterns = [
            path("orga/", include([*views.TalkView.get_urls("talks", "talk")])),
            *generic.crud_urls("rooms", views.RoomView),
        ]
        """,
    )
    assert found(report) == {
        "TalkView.get": ("proj/generic.py", "/orga/talks", "inline", LIKELY),
        # CRUDView.post runs self.save_object(): the routed class's override dispatches
        "TalkView.post": ("proj/generic.py", "/orga/talks", "offloaded", LIKELY),
        "RoomView.get": ("proj/views.py", "/rooms", "inline", LIKELY),
        # RoomView has no override: the base's stub runs, not TalkView's
        "RoomView.post": ("proj/generic.py", "/rooms", "inline", LIKELY),
    }


def test_a_function_that_builds_no_patterns_routes_nothing(run_audit):
    report = run(
        run_audit,
        """
        from proj import views

        def describe(view):
            return [view.__name__]

        urlpatterns = [*describe(views.TalkView)]
        """,
    )
    assert report.endpoints == []


def unrecognized(report):
    return [(u.file, u.line, u.call, u.reason) for u in report.unrecognized]


def test_a_star_unpacked_call_the_audit_cannot_expand_is_listed(run_audit):
    report = run(
        run_audit,
        """
        from django.conf import settings
        from django.conf.urls.static import static
        from proj import views
        from proj.vendor import plugin_urls

        urlpatterns = [
            *plugin_urls("plugins"),
            *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
        ]
        """,
    )
    assert report.endpoints == []
    # Django's own static() serves files, not views: nothing to report
    assert unrecognized(report) == [
        (
            "proj/urls.py",
            7,
            "proj.vendor.plugin_urls(...)",
            "a call in a URL list the audit cannot expand",
        )
    ]


def test_a_builder_routing_a_class_with_no_http_method_is_listed(run_audit):
    report = run(
        run_audit,
        """
        from proj import generic

        class Plain:
            pass

        urlpatterns = [*generic.crud_urls("plain", Plain)]
        """,
    )
    assert report.endpoints == []
    assert [(u.line, u.reason) for u in report.unrecognized] == [
        (6, "crud_urls routes Plain, which answer no HTTP method the audit can see")
    ]


def test_an_expanded_builder_call_is_not_listed(run_audit):
    report = run(
        run_audit,
        """
        from proj import generic, views

        urlpatterns = [*generic.crud_urls("rooms", views.RoomView)]
        """,
    )
    assert sorted(e.handler for e in report.endpoints) == ["RoomView.get", "RoomView.post"]
    assert report.unrecognized == []
