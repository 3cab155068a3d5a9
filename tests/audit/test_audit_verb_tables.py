"""A view whose ``as_view(action=...)`` binds each HTTP verb to a method named in a
module-level table, routed through a classmethod that builds its own URL patterns (the shape
of Neapolitan's ``CRUDView``, PATTERNS round 5b item 8). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations

import ast
import textwrap

from controlplane.migrations_audit.report import CERTAIN, LIKELY
from controlplane.migrations_audit.verb_tables import verb_loop_table, verb_map

TASKS = """
    from celery import shared_task

    @shared_task
    def notify(pk):
        return pk
"""
ACTIONS = """
    ACTIONS = {
        "list": {"get": "list"},
        "create": {"get": "form_view", "post": "form_handler"},
        "update": {"get": "form_view", "post": "form_handler"},
        "delete": {"get": "delete_view", "post": "delete_handler"},
    }
"""
GENERIC = """
    from django.urls import path
    from django.views import View

    from proj.actions import ACTIONS


    class CRUDView(View):
        def list(self, request, *args, **kwargs):
            return None

        def form_view(self, request, *args, **kwargs):
            return None

        def form_handler(self, request, *args, **kwargs):
            self.save_object()

        def delete_view(self, request, *args, **kwargs):
            return None

        def save_object(self):
            pass

        @classmethod
        def get_url_pattern(cls, url_base, action):
            if action == "list":
                return f"{url_base}/"
            return f"{url_base}/<int:pk>/{action}/"

        @classmethod
        def as_view(cls, action, **initkwargs):
            def view(request, *args, **kwargs):
                self = cls(**initkwargs)
                self.action = action
                for verb, method in ACTIONS[action].items():
                    handler = getattr(self, method)
                    setattr(self, verb, handler)
                return self.dispatch(request, *args, **kwargs)

            return view

        @classmethod
        def get_urls(cls, url_base, url_name):
            return [
                path(
                    cls.get_url_pattern(url_base, action),
                    cls.as_view(action=action),
                    name=f"{url_name}.{action}",
                )
                for action in ACTIONS
            ]

        @classmethod
        def describe_urls(cls, url_base):
            return [f"{url_base}/{action}/" for action in ACTIONS]
"""
VIEWS = """
    from proj.generic import CRUDView
    from proj.tasks import notify


    class TrackView(CRUDView):
        def save_object(self):
            notify.delay(1)


    class RoomView(CRUDView):
        def form_handler(self, request, *args, **kwargs):
            return None
"""


REGISTRY = """
    registry = {}


    def register_view(name):
        def inner(cls):
            registry.setdefault(name, []).append(cls)
            return cls

        return inner
"""


def run(run_audit, urls: str, generic: str = GENERIC):
    return run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/tasks.py": TASKS,
            "proj/actions.py": ACTIONS,
            "proj/registry.py": REGISTRY,
            "proj/generic.py": generic,
            "proj/views.py": VIEWS,
            "proj/urls.py": urls,
        }
    )


def found(report):
    return {
        (e.handler, tuple(e.methods)): (e.file, e.route, e.status, e.confidence)
        for e in report.endpoints
    }


def test_each_action_and_verb_of_a_star_unpacked_get_urls_is_an_endpoint(run_audit):
    report = run(
        run_audit,
        """
        from django.urls import include, path
        from proj import views

        urlpatterns = [
            path("orga/", include([*views.TrackView.get_urls("tracks", "track")])),
            *views.RoomView.get_urls("rooms", "room"),
        ]
        """,
    )
    # named after the method each verb runs; create and update share theirs; the table's
    # delete_handler is no method of the classes: no endpoint
    assert found(report) == {
        ("TrackView.list", ("GET",)): ("proj/generic.py", "/orga/tracks", "inline", LIKELY),
        ("TrackView.form_view", ("GET",)): ("proj/generic.py", "/orga/tracks", "inline", LIKELY),
        # the base's form_handler runs self.save_object(): TrackView's override dispatches
        ("TrackView.form_handler", ("POST",)): (
            "proj/generic.py",
            "/orga/tracks",
            "offloaded",
            LIKELY,
        ),
        ("TrackView.delete_view", ("GET",)): ("proj/generic.py", "/orga/tracks", "inline", LIKELY),
        ("RoomView.list", ("GET",)): ("proj/generic.py", "/rooms", "inline", LIKELY),
        ("RoomView.form_view", ("GET",)): ("proj/generic.py", "/rooms", "inline", LIKELY),
        ("RoomView.form_handler", ("POST",)): ("proj/views.py", "/rooms", "inline", LIKELY),
        ("RoomView.delete_view", ("GET",)): ("proj/generic.py", "/rooms", "inline", LIKELY),
    }
    assert report.unrecognized == []


def test_a_list_of_star_unpacked_builders_passed_to_include_is_a_url_list(run_audit):
    report = run(
        run_audit,
        """
        from django.urls import include, path
        from proj import views

        track_urls = [*views.TrackView.get_urls(url_base="tracks", url_name="track")]
        labels = [*views.RoomView.get_urls("rooms", "room")]

        urlpatterns = [path("orga/", include(track_urls))]
        """,
    )
    # labels is never included: not a URL list, its views are not routed
    assert {(e.handler, e.route) for e in report.endpoints} == {
        ("TrackView.list", "/orga/tracks"),
        ("TrackView.form_view", "/orga/tracks"),
        ("TrackView.form_handler", "/orga/tracks"),
        ("TrackView.delete_view", "/orga/tracks"),
    }


def test_a_classmethod_builder_in_a_module_that_sees_a_view_registry_routes_its_class(
    run_audit,
):
    # the builder's module imports a registry a decorator fills: get_urls still routes the
    # class it is called on (no decorated class is among its views)
    generic = GENERIC.replace(
        "from proj.actions import ACTIONS",
        "from proj.actions import ACTIONS\n    from proj.registry import registry",
    )
    report = run(
        run_audit,
        """
        from proj import views

        urlpatterns = [*views.TrackView.get_urls("tracks", "track")]
        """,
        generic,
    )
    assert sorted(e.handler for e in report.endpoints) == [
        "TrackView.delete_view",
        "TrackView.form_handler",
        "TrackView.form_view",
        "TrackView.list",
    ]


def test_a_table_named_by_a_class_attribute_is_read_through_the_routed_class(run_audit):
    generic = GENERIC.replace(
        "for verb, method in ACTIONS[action].items():",
        "for verb, method in cls.actions[action].items():",
    ).replace("class CRUDView(View):", "class CRUDView(View):\n        actions = ACTIONS\n")
    report = run(
        run_audit,
        """
        from proj import views

        urlpatterns = [*views.TrackView.get_urls("tracks", "track")]
        """,
        generic,
    )
    assert len(report.endpoints) == 4
    assert report.unrecognized == []


def test_a_copy_of_the_tables_entry_held_in_a_local_is_read(run_audit):
    # dict.copy() is the same mapping; a later update(...) from a class attribute may add
    # verbs the audit does not see, but the table's own verbs still run their methods
    generic = GENERIC.replace(
        """                for verb, method in ACTIONS[action].items():""",
        """                verbs = ACTIONS.get(action).copy()
                if extra := getattr(cls, "extra_actions", {}).get(action):
                    verbs.update(extra)
                for verb, method in verbs.items():""",
    )
    report = run(
        run_audit,
        """
        from proj import views

        urlpatterns = [*views.TrackView.get_urls("tracks", "track")]
        """,
        generic,
    )
    assert len(report.endpoints) == 4
    assert report.unrecognized == []


EXTRA_GENERIC = GENERIC.replace(
    """                for verb, method in ACTIONS[action].items():""",
    """                verbs = ACTIONS.get(action).copy()
                if extra := getattr(cls, "extra_actions", {}).get(action):
                    verbs.update(extra)
                for verb, method in verbs.items():""",
)


def test_verbs_a_class_adds_to_the_tables_entry_are_endpoints(run_audit):
    # round 9, item 49: the routed class's extra_actions are merged into its action's verbs
    views = (
        VIEWS
        + """

    class SortedView(CRUDView):
        extra_actions = {"list": {"post": "reorder"}, "delete": {"post": "missing"}}

        def reorder(self, request, *args, **kwargs):
            notify.delay(2)


    class PlainView(SortedView):
        extra_actions = {}
"""
    )
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/tasks.py": TASKS,
            "proj/actions.py": ACTIONS,
            "proj/registry.py": REGISTRY,
            "proj/generic.py": EXTRA_GENERIC,
            "proj/views.py": views,
            "proj/urls.py": """
        from proj import views

        urlpatterns = [
            *views.SortedView.get_urls("sorted", "sorted"),
            *views.PlainView.get_urls("plain", "plain"),
        ]
        """,
        }
    )
    handlers = {(e.handler, e.methods[0]): e.status for e in report.endpoints}
    assert handlers[("SortedView.reorder", "POST")] == "offloaded"
    assert ("SortedView.missing", "POST") not in handlers  # a method the class lacks
    assert not any(h.startswith("PlainView.reorder") for h, _ in handlers)  # its own table
    assert len([h for h in handlers if h[0].startswith("SortedView.")]) == 5


def test_a_table_the_audit_cannot_read_is_listed_not_guessed(run_audit):
    generic = GENERIC.replace(
        "for verb, method in ACTIONS[action].items():",
        "for verb, method in cls.action_map(action).items():",
    )
    report = run(
        run_audit,
        """
        from proj import views

        urlpatterns = [*views.TrackView.get_urls("tracks", "track")]
        """,
        generic,
    )
    assert report.endpoints == []
    assert [u.reason for u in report.unrecognized] == [
        "CRUDView.get_urls routes TrackView, whose as_view binds HTTP verbs from a table the"
        " audit cannot read"
    ]


def test_as_view_given_one_action_routes_that_action(run_audit):
    report = run(
        run_audit,
        """
        from django.urls import path
        from proj.views import TrackView

        urlpatterns = [path("tracks/new/", TrackView.as_view(action="create"))]
        """,
    )
    assert found(report) == {
        ("TrackView.form_view", ("GET",)): ("proj/generic.py", "/tracks/new/", "inline", CERTAIN),
        ("TrackView.form_handler", ("POST",)): (
            "proj/generic.py",
            "/tracks/new/",
            "offloaded",
            CERTAIN,
        ),
    }


def test_a_get_urls_that_builds_no_patterns_is_listed_not_routed(run_audit):
    report = run(
        run_audit,
        """
        from proj import views

        urlpatterns = [*views.TrackView.describe_urls("tracks")]
        """,
    )
    assert report.endpoints == []
    assert [(u.line, u.call, u.reason) for u in report.unrecognized] == [
        (
            3,
            "proj.views.TrackView.describe_urls(...)",
            "a call in a URL list the audit cannot expand",
        )
    ]


def test_an_action_whose_methods_do_not_exist_routes_nothing(run_audit):
    report = run(
        run_audit,
        """
        from django.urls import path
        from proj.views import TrackView

        urlpatterns = [path("tracks/<int:pk>/delete/", TrackView.as_view(action="missing"))]
        """,
    )
    assert report.endpoints == []
    assert [(u.line, u.reason) for u in report.unrecognized] == [
        (4, "class TrackView answers no HTTP method the audit can see")
    ]


def loop_table(source: str) -> str | None:
    node = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(node, ast.For)
    table = verb_loop_table(node)
    return ast.unparse(table) if table is not None else None


def test_only_a_loop_binding_verbs_to_methods_of_self_reads_a_table():
    assert (
        loop_table(
            """
        for verb, method in ACTIONS[action].items():
            setattr(self, verb, getattr(self, method))
        """
        )
        == "ACTIONS[action]"
    )
    assert (
        loop_table(
            """
        for verb, method in crud_map.items():
            handler = getattr(self, method, None)
            if handler is not None:
                setattr(self, verb.lower(), handler)
        """
        )
        == "crud_map"
    )
    # binds the names themselves, or methods of another object: no verb table
    assert (
        loop_table(
            """
        for verb, method in ACTIONS[action].items():
            setattr(self, verb, method)
        """
        )
        is None
    )
    assert (
        loop_table(
            """
        for verb, method in ACTIONS[action].items():
            setattr(self, verb, getattr(other, method))
        """
        )
        is None
    )


def test_a_table_that_is_no_literal_of_method_names_is_not_read():
    def parsed(text: str) -> ast.expr:
        return ast.parse(text, mode="eval").body

    assert verb_map(parsed('{"list": {"GET": "list"}}')) == {"list": {"get": "list"}}
    assert verb_map(parsed('{"new": dict(get="form", post="save"), "x": 1}')) == {
        "new": {"get": "form", "post": "save"}
    }
    assert verb_map(parsed('{"list": {"get": handler}}')) == {}
    assert verb_map(parsed('{"list": ["get", "list"]}')) == {}
