"""Handler classes whose entry method is on a base (issue 14, item 1, class hierarchies):
each routed class is its own endpoint, named by the hook it overrides and reported at that
hook's ``def`` (the base's entry when it overrides none), with per-verb hooks picked by
``getattr(self, f"_process_{request.method}", self._process)``. Snippets written for the
audit, not copied; the Django ``dispatch`` and Flask ``dispatch_request`` forms of the same
shape are checked to be unchanged."""

from __future__ import annotations

import textwrap

TASKS = """
    from celery import shared_task

    @shared_task
    def send_mail(x):
        return x
"""
RH = """
    from flask import request


    class RH:
        def process(self):
            self._check_access()
            return self._do_process()

        def _check_access(self):
            pass

        def _do_process(self):
            return getattr(self, f"_process_{request.method}", self._process)()

        def _process(self):
            raise NotImplementedError
"""
BLUEPRINT_CLASS = """
    from flask import Blueprint


    def make_view_func(cls):
        def wrapper(**kwargs):
            return cls().process()

        return wrapper


    class AppBlueprint(Blueprint):
        def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
            if isinstance(view_func, type):
                view_func = make_view_func(view_func)
            super().add_url_rule(rule, endpoint, view_func, **options)
"""
CONTROLLERS = """
    from app.rh import RH
    from app.tasks import send_mail


    class RHThingEdit(RH):
        def _process_GET(self):
            return "form"

        def _process_POST(self):
            send_mail.delay(1)
            return "saved"


    class RHThing(RH):
        def _process(self):
            return "thing"


    class RHPlain(RH):
        pass


    class RHMixed(RH):
        def _process_GET(self):
            return "read"

        def _process(self):
            send_mail.delay(2)
            return "other"


    class RHGuarded(RH):
        def _check_access(self):
            send_mail.delay(3)

        def _process(self):
            return "x"


    class RHNeverRouted(RH):
        def _process_POST(self):
            send_mail.delay(4)


    class Helper:
        def _process(self):
            send_mail.delay(5)
"""


def project(rules: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/rh.py": RH,
        "app/blueprint.py": BLUEPRINT_CLASS,
        "app/controllers.py": CONTROLLERS,
        "app/routes.py": textwrap.dedent(
            """
            from app.blueprint import AppBlueprint
            from app.controllers import RHGuarded, RHMixed, RHPlain, RHThing, RHThingEdit

            bp = AppBlueprint("things", __name__, url_prefix="/things")
            """
        )
        + textwrap.dedent(rules),
    }


def where(report):
    return {e.handler: (e.file, e.line, list(e.methods)) for e in report.endpoints}


def test_each_routed_class_is_named_by_the_hook_its_verb_picks(check):
    report = check(
        project(
            """
            bp.add_url_rule("/<id>/edit", "edit", RHThingEdit, methods=("GET", "POST"))
            bp.add_url_rule("/<id>", "show", RHThing)
            """
        ),
        {
            "RHThingEdit._process_GET": ("inline", False),
            "RHThingEdit._process_POST": ("offloaded", False),
            "RHThing._process": ("inline", False),
        },
    )
    assert where(report) == {
        "RHThingEdit._process_GET": ("app/controllers.py", 6, ["GET"]),
        "RHThingEdit._process_POST": ("app/controllers.py", 9, ["POST"]),
        "RHThing._process": ("app/controllers.py", 15, ["GET"]),
    }
    assert report.unrecognized == []


def test_a_verb_without_its_own_method_falls_back_to_the_default_hook(check):
    # GET has _process_GET; POST falls back to the default self._process, which dispatches;
    # the default handed to getattr does not run for GET
    report = check(
        project('bp.add_url_rule("/mixed", "mixed", RHMixed, methods=("GET", "POST"))\n'),
        {"RHMixed._process_GET": ("inline", False), "RHMixed._process": ("offloaded", False)},
    )
    assert where(report)["RHMixed._process"] == ("app/controllers.py", 27, ["POST"])


def test_work_in_an_override_the_base_entry_calls_first_still_counts(check):
    # the name is the hook that answers, but the entry's self._check_access() runs the
    # routed class's override
    check(
        project('bp.add_url_rule("/guarded", "guarded", RHGuarded)\n'),
        {"RHGuarded._process": ("offloaded", False)},
    )


def test_a_class_routed_with_no_override_reports_the_base_entry_under_its_name(check):
    report = check(
        project('bp.add_url_rule("/plain", "plain", RHPlain)\n'),
        {"RHPlain.process": ("inline", False)},
    )
    assert where(report) == {"RHPlain.process": ("app/rh.py", 5, ["GET"])}


def test_handler_classes_that_are_not_routed_are_no_endpoints(check):
    # RHNeverRouted and Helper dispatch, but nothing registers them
    report = check(
        project('bp.add_url_rule("/<id>", "show", RHThing)\n'),
        {"RHThing._process": ("inline", False)},
    )
    assert [e.file for e in report.endpoints] == ["app/controllers.py"]


def test_a_template_that_returns_the_override_names_it(check):
    # no per-verb lookup: process() -> return self._run() -> the subclass's _run
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/blueprint.py": BLUEPRINT_CLASS,
            "app/handlers.py": """
                from app.tasks import send_mail


                class Base:
                    def process(self):
                        self.check()
                        return self._run()

                    def check(self):
                        pass

                    def _run(self):
                        raise NotImplementedError


                class Export(Base):
                    def check(self):
                        pass

                    def _run(self):
                        send_mail.delay(1)
            """,
            "app/routes.py": """
                from app.blueprint import AppBlueprint
                from app.handlers import Export

                bp = AppBlueprint("x", __name__)
                bp.add_url_rule("/export", "export", Export, methods=("POST",))
            """,
        },
        {"Export._run": ("offloaded", False)},
    )
    # the override of check() is not the hook: the template returns _run()
    assert where(report) == {"Export._run": ("app/handlers.py", 20, ["POST"])}


def test_a_django_dispatch_through_getattr_still_answers_per_method(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": """
                from django.views import View
                from app.tasks import send_mail


                class BaseView(View):
                    def dispatch(self, request, *args, **kwargs):
                        handler = getattr(
                            self, request.method.lower(), self.http_method_not_allowed
                        )
                        return handler(request, *args, **kwargs)


                class Export(BaseView):
                    def get(self, request):
                        return "form"

                    def post(self, request):
                        send_mail.delay(1)
                        return "queued"
            """,
            "app/urls.py": """
                from django.urls import path
                from app.views import Export

                urlpatterns = [path("export/", Export.as_view())]
            """,
        },
        {"Export.get": ("inline", False), "Export.post": ("offloaded", False)},
    )


def test_a_flask_dispatch_request_through_getattr_still_answers_per_method(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": """
                from flask import Blueprint, request
                from flask.views import View
                from app.tasks import send_mail


                class Base(View):
                    methods = ["GET", "POST"]

                    def dispatch_request(self, **kwargs):
                        return getattr(self, request.method.lower())(**kwargs)


                class Export(Base):
                    def get(self):
                        return "form"

                    def post(self):
                        send_mail.delay(1)
                        return "queued"


                bp = Blueprint("x", __name__)
                bp.add_url_rule("/export", view_func=Export.as_view("export"))
            """,
        },
        {"Export.get": ("inline", False), "Export.post": ("offloaded", False)},
    )


def test_a_wrapper_made_by_a_staticmethod_of_the_blueprint_is_read(check):
    # self.make_view_func(view_func) on a staticmethod binds view_func to its first
    # parameter (no self to skip); the closure it returns calls the entry on an instance
    files = project('bp.add_url_rule("/<id>/edit", "edit", RHThingEdit, methods=("POST",))\n')
    files["app/blueprint.py"] = """
        from flask import Blueprint


        class AppBlueprint(Blueprint):
            def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
                if view_func is not None and isinstance(view_func, type):
                    view_func = self.make_view_func(view_func)
                super().add_url_rule(rule, endpoint, view_func, **options)

            @staticmethod
            def make_view_func(view_class):
                def view(**kwargs):
                    handler = view_class()
                    return handler.process()

                return view
    """
    report = check(files, {"RHThingEdit._process_POST": ("offloaded", False)})
    assert report.unrecognized == []


def test_a_project_dispatch_request_picking_a_method_per_verb_names_it(check):
    # flask View, no get/post: the project's dispatch_request (on the base) looks up
    # handle_<verb>, falling back to handle; ``methods`` is inherited from the base
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": """
                from flask import Blueprint, request
                from flask.views import View
                from app.tasks import send_mail


                class Base(View):
                    methods = ["GET", "POST"]

                    def dispatch_request(self, **kwargs):
                        handler = getattr(self, f"handle_{request.method.lower()}", self.handle)
                        return handler(**kwargs)

                    def handle(self, **kwargs):
                        return "nothing"


                class Export(Base):
                    def handle_get(self):
                        return "form"

                    def handle_post(self):
                        send_mail.delay(1)
                        return "queued"


                class Other(Base):
                    methods = ["GET"]


                bp = Blueprint("x", __name__)
                bp.add_url_rule("/export", view_func=Export.as_view("export"))
                bp.add_url_rule("/other", view_func=Other.as_view("other"))
            """,
        },
        {
            "Export.handle_get": ("inline", False),
            "Export.handle_post": ("offloaded", False),
            "Other.dispatch_request": ("inline", False),
        },
    )
    assert where(report)["Export.handle_post"] == ("app/views.py", 21, ["POST"])
    assert where(report)["Other.dispatch_request"] == ("app/views.py", 9, ["GET"])


def test_a_drf_action_on_a_shared_base_is_one_endpoint_per_routed_viewset(check):
    # UpdateMixin.update is defined once and routed through two viewsets: each is its own
    # endpoint at the mixin's def, and only the one whose perform_update dispatches is
    # offloaded (the other routed first must not lend it its name or status)
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/mixins.py": """
                class UpdateMixin:
                    def update(self, request, *args, **kwargs):
                        self.before_update()
                        return super().update(request, *args, **kwargs)

                    def before_update(self):
                        pass
            """,
            "app/views.py": """
                from rest_framework.mixins import UpdateModelMixin
                from rest_framework.viewsets import GenericViewSet

                from app.mixins import UpdateMixin
                from app.tasks import send_mail


                class ProjectsViewSet(UpdateMixin, UpdateModelMixin, GenericViewSet):
                    def perform_update(self, serializer):
                        serializer.save()
                        send_mail.delay(1)


                class NotesViewSet(UpdateMixin, UpdateModelMixin, GenericViewSet):
                    pass
            """,
            "app/urls.py": """
                from rest_framework.routers import DefaultRouter

                from app.views import NotesViewSet, ProjectsViewSet

                router = DefaultRouter()
                router.register(r"notes", NotesViewSet)
                router.register(r"projects", ProjectsViewSet)
                urlpatterns = router.urls
            """,
        },
        {
            "NotesViewSet.update": ("inline", False),
            "NotesViewSet.partial_update": ("inline", False),
            "ProjectsViewSet.update": ("offloaded", False),
            "ProjectsViewSet.partial_update": ("offloaded", False),
        },
    )
    updates = sorted(
        (e.handler, e.file, e.line) for e in report.endpoints if ".update" in e.handler
    )
    assert updates == [
        ("NotesViewSet.update", "app/mixins.py", 2),
        ("ProjectsViewSet.update", "app/mixins.py", 2),
    ]


def methodview_project(base_line: str) -> dict[str, str]:
    """A MethodView base whose ``dispatch_request`` starts with ``base_line``, and a routed
    subclass that only answers GET."""
    views = """
        from flask import Blueprint
        from flask.views import MethodView
        from app.tasks import send_mail


        class Base(MethodView):
            def dispatch_request(self, **kwargs):
                BASE_LINE
                return super().dispatch_request(**kwargs)

            def later(self):
                send_mail.delay(1)


        class Export(Base):
            def get(self):
                return "form"


        bp = Blueprint("x", __name__)
        bp.add_url_rule("/export", view_func=Export.as_view("export"))
    """
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/views.py": views.replace("BASE_LINE", base_line),
    }


def test_a_base_dispatch_request_runs_before_each_verb_of_every_routed_class(check):
    # MethodView's view function calls dispatch_request, which the base overrides: its
    # work is done for Export.get too (as Django's dispatch and DRF's initial are)
    check(
        methodview_project("send_mail.delay(0)"),
        {"Export.get": ("offloaded", False)},
    )


def test_a_base_dispatch_request_that_does_no_work_leaves_the_verb_inline(check):
    # the override only adjusts kwargs; the base's later() dispatches but nothing calls it
    check(
        methodview_project('kwargs.pop("org_slug", None)'),
        {"Export.get": ("inline", False)},
    )


DJANGO_URLS = """
    from django.urls import path

    from app.views import Export

    urlpatterns = [path("export/", Export.as_view())]
"""


def test_a_django_dispatch_looking_up_its_own_verb_methods_answers_those_verbs(check):
    # no get/post: the base's dispatch picks handle_<verb>, else refuse; only the verbs
    # the routed class has a method for are endpoints (PUT would be refused)
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": """
                from django.views import View
                from app.tasks import send_mail


                class ActionView(View):
                    def dispatch(self, request, *args, **kwargs):
                        handler = getattr(self, f"handle_{request.method.lower()}", self.refuse)
                        return handler(request, *args, **kwargs)

                    def refuse(self, request, *args, **kwargs):
                        return "405"


                class Export(ActionView):
                    def handle_get(self, request):
                        return "form"

                    def handle_post(self, request):
                        send_mail.delay(1)
                        return "queued"
            """,
            "app/urls.py": DJANGO_URLS,
        },
        {"Export.handle_get": ("inline", False), "Export.handle_post": ("offloaded", False)},
    )
    assert where(report)["Export.handle_post"] == ("app/views.py", 18, ["POST"])
    assert report.unrecognized == []


def test_a_django_dispatch_with_no_verb_lookup_is_the_handler_of_every_method(check):
    # dispatch names no method by the verb and does not hand the request to View.dispatch:
    # it answers every method itself (round 9, item 46), running handle_post each time
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": """
                from django.views import View
                from app.tasks import send_mail


                class Export(View):
                    def dispatch(self, request, *args, **kwargs):
                        return self.handle_post(request)

                    def handle_post(self, request):
                        send_mail.delay(1)
            """,
            "app/urls.py": DJANGO_URLS,
        },
        {"Export.dispatch": ("offloaded", False)},
    )
    assert report.unrecognized == []
