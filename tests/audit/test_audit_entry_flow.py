"""Handler classes whose entry is on a base, second shape (issue 14, item 1): the entry
reaches the hook through self-calls whose value is assigned to a local and returned later,
possibly wrapped (``res = self._do_process()`` ... ``return make_response(res)``), over
several levels, and the per-verb lookup builds its name by concatenation
(``getattr(self, '_process_' + request.method, None)``), its ``None`` default refusing the
verbs a class has no method for. Snippets written for the audit from the shape described
in the brief, not copied from a project."""

from __future__ import annotations

import textwrap

from tests.audit.audit_support import RH_BLUEPRINT as BLUEPRINT

TASKS = """
    from celery import shared_task

    @shared_task
    def notify_task(x):
        return x
"""
RH = """
    from flask import current_app, request
    from werkzeug.exceptions import BadRequest, MethodNotAllowed

    from app.signals import signals, values_from_signal
    from app.db import db

    HTTP_VERBS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


    class RH:
        CSRF_ENABLED = True
        commit = True

        def process(self):
            if request.method not in HTTP_VERBS:
                raise BadRequest
            self._check_csrf()
            if terms := self._check_terms():
                return terms
            res = self._do_process()
            if self.commit:
                db.session.commit()
            response = current_app.make_response(res)
            return response

        def _check_csrf(self):
            pass

        def _check_terms(self):
            return None

        def normalize_url(self):
            return None

        def _do_process(self):
            if rv := self.normalize_url():
                return rv
            self._process_args()
            self._check_access()
            rv = self._process()
            signal_rv = values_from_signal(signals.process.send(type(self), rh=self, result=rv))
            if signal_rv:
                return signal_rv[0]
            return rv

        def _process_args(self):
            pass

        def _check_access(self):
            pass

        def _process(self):
            method = getattr(self, DISPATCH, None)
            if method is None:
                raise MethodNotAllowed()
            return method()
"""
CONCAT = "'_process_' + request.method"
SUPPORT = {
    "app/signals.py": """
        def values_from_signal(results):
            return [r for _, r in results if r is not None]


        class signals:
            process = None
    """,
    "app/db.py": "db = None\n",
}
CONTROLLERS = """
    from flask import request

    from app.rh import RH
    from app.tasks import notify_task


    class Thing:
        @classmethod
        def get(cls, id):
            return cls()


    class RHThing(RH):
        def _process_args(self):
            self.thing = Thing.get(request.view_args["id"])

        def _check_access(self):
            pass

        def _process(self):
            return str(self.thing)


    class RHThingEdit(RH):
        def _process_GET(self):
            return "form"

        def _process_POST(self):
            notify_task.delay(1)
            return "saved"


    class RHPlain(RH):
        pass


    class RHChecked(RH):
        def _check_access(self):
            notify_task.delay(2)

        def _process(self):
            return "x"


    class RHRedirecting(RH):
        def normalize_url(self):
            notify_task.delay(3)
            return "redirect"


    class RHTerms(RH):
        def _check_terms(self):
            return "accept the terms first"

        def _process(self):
            return "y"
"""


def project(rules: str, dispatch: str = CONCAT, **extra: str) -> dict[str, str]:
    files = {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/rh.py": RH.replace("DISPATCH", dispatch),
        "app/blueprint.py": BLUEPRINT,
        "app/controllers.py": CONTROLLERS,
        **SUPPORT,
        "app/routes.py": textwrap.dedent(
            """
            from app.blueprint import MyBlueprint
            from app.controllers import (
                RHChecked, RHPlain, RHRedirecting, RHTerms, RHThing, RHThingEdit,
            )

            bp = MyBlueprint("things", __name__, url_prefix="/things")
            """
        )
        + textwrap.dedent(rules),
    }
    files.update(extra)
    return files


def where(report):
    return {e.handler: (e.file, e.line, list(e.methods), e.route) for e in report.endpoints}


SHOW_EDIT = """
    bp.add_url_rule("/<int:id>", "show", RHThing)
    bp.add_url_rule("/<int:id>/edit", "edit", RHThingEdit, methods=("GET", "POST"))
"""


def test_a_hook_whose_value_is_assigned_then_wrapped_names_each_routed_class(check):
    # process -> res = self._do_process() -> make_response(res); _do_process -> rv =
    # self._process() -> return rv; _process looks up '_process_' + request.method
    report = check(
        project(SHOW_EDIT),
        {
            "RHThing._process": ("inline", False),
            "RHThingEdit._process_GET": ("inline", False),
            "RHThingEdit._process_POST": ("offloaded", False),
        },
    )
    assert where(report) == {
        "RHThing._process": ("app/controllers.py", 20, ["GET"], "/things/<int:id>"),
        "RHThingEdit._process_GET": ("app/controllers.py", 25, ["GET"], "/things/<int:id>/edit"),
        "RHThingEdit._process_POST": (
            "app/controllers.py",
            28,
            ["POST"],
            "/things/<int:id>/edit",
        ),
    }
    assert report.unrecognized == []


def test_hooks_called_for_their_checks_count_but_do_not_name_the_endpoint(check):
    # RHChecked's _check_access dispatches: the endpoint is its _process, offloaded
    report = check(
        project('bp.add_url_rule("/checked", "checked", RHChecked)\n'),
        {"RHChecked._process": ("offloaded", False)},
    )
    assert where(report)["RHChecked._process"][:2] == ("app/controllers.py", 41)


def test_an_early_return_overridden_by_the_class_does_not_name_it(check):
    # normalize_url's value is returned only by a guard; the final return is the hook's.
    # RHRedirecting overrides no hook: it keeps the base's entry, its work still counts
    report = check(
        project('bp.add_url_rule("/r", "r", RHRedirecting)\n'),
        {"RHRedirecting.process": ("offloaded", False)},
    )
    assert where(report)["RHRedirecting.process"][:2] == ("app/rh.py", 14)


def test_an_overridden_guard_next_to_a_hook_leaves_the_hook_the_name(check):
    check(
        project('bp.add_url_rule("/t", "t", RHTerms)\n'),
        {"RHTerms._process": ("inline", False)},
    )


def test_a_class_overriding_no_hook_keeps_the_base_entry(check):
    report = check(
        project('bp.add_url_rule("/plain", "plain", RHPlain)\n'),
        {"RHPlain.process": ("inline", False)},
    )
    assert where(report) == {"RHPlain.process": ("app/rh.py", 14, ["GET"], "/things/plain")}


def test_a_none_default_refuses_the_verbs_the_class_has_no_method_for(check):
    # DELETE is on the route but RHThingEdit has no _process_DELETE: getattr gives None,
    # the base answers 405, so there is no DELETE endpoint
    report = check(
        project('bp.add_url_rule("/e", "e", RHThingEdit, methods=("GET", "POST", "DELETE"))\n'),
        {
            "RHThingEdit._process_GET": ("inline", False),
            "RHThingEdit._process_POST": ("offloaded", False),
        },
    )
    assert sorted(m for e in report.endpoints for m in e.methods) == ["GET", "POST"]


def test_a_route_narrower_than_the_class_keeps_the_routes_verbs(check):
    check(
        project('bp.add_url_rule("/e", "e", RHThingEdit, methods=("POST",))\n'),
        {"RHThingEdit._process_POST": ("offloaded", False)},
    )


def test_percent_and_format_lookups_read_like_concatenation(check):
    for dispatch in ("'_process_%s' % request.method", "'_process_{}'.format(request.method)"):
        check(
            project(SHOW_EDIT, dispatch=dispatch),
            {
                "RHThing._process": ("inline", False),
                "RHThingEdit._process_GET": ("inline", False),
                "RHThingEdit._process_POST": ("offloaded", False),
            },
        )


def test_a_lookup_built_from_something_else_is_not_a_verb_dispatch(check):
    # a name built from a local (not the request's method): nothing is picked by verb, but
    # any method named like _process_* may run (PATTERNS.md item 92): a guess, so likely;
    report = check(
        project(SHOW_EDIT, dispatch="'_process_' + self.kind"),
        {
            "RHThing._process": ("inline", False),
            "RHThingEdit.process": ("offloaded", False),
        },
    )
    assert {e.handler: e.confidence for e in report.endpoints}["RHThingEdit.process"] == "likely"


def test_view_func_keyword_and_rules_added_in_another_module(check):
    # the blueprint is defined in one module, its rules added in another, view_func given
    # by keyword
    files = project("")
    files["app/more_routes.py"] = textwrap.dedent(
        """
        from app.controllers import RHThing, RHThingEdit
        from app.routes import bp

        bp.add_url_rule("/<int:id>", "show", view_func=RHThing)
        bp.add_url_rule(
            "/<int:id>/edit", "edit", view_func=RHThingEdit, methods=("GET", "POST")
        )
        """
    )
    report = check(
        files,
        {
            "RHThing._process": ("inline", False),
            "RHThingEdit._process_GET": ("inline", False),
            "RHThingEdit._process_POST": ("offloaded", False),
        },
    )
    assert where(report)["RHThingEdit._process_POST"][3] == "/things/<int:id>/edit"


def test_a_template_returning_a_local_not_from_a_hook_falls_back_to_its_last_self_call(check):
    # the returned value is built from a constant: no data flow to follow, so the rule of
    # entry_hooks (the last self-call) still applies
    files = project(SHOW_EDIT)
    files["app/rh.py"] = files["app/rh.py"].replace(
        "response = current_app.make_response(res)", 'response = current_app.make_response("")'
    )
    check(
        files,
        {
            "RHThing._process": ("inline", False),
            "RHThingEdit._process_GET": ("inline", False),
            "RHThingEdit._process_POST": ("offloaded", False),
        },
    )


TRY_DO_PROCESS = """
        def _do_process(self):
            if rv := self.normalize_url():
                return rv
            try:
                self._process_args()
                self._check_access()
                with db.session.no_autoflush:
                    rv = self._process()
                return rv
            except LookupError:
                return self.not_found()
            finally:
                db.session.remove()

        def not_found(self):
            return "404"
"""


def test_the_last_return_through_try_and_with_is_the_main_path(check):
    # the hook's value is returned inside try/with; the except handler's return of another
    # self-call is a bail-out: RHNotFound, which overrides only that, keeps the entry's name
    files = project(SHOW_EDIT)
    start = files["app/rh.py"].index("        def _do_process(self):")
    end = files["app/rh.py"].index("        def _process_args(self):")
    files["app/rh.py"] = (
        files["app/rh.py"][:start]
        + textwrap.indent(textwrap.dedent(TRY_DO_PROCESS), " " * 8)
        + "\n"
        + files["app/rh.py"][end:]
    )
    files["app/controllers.py"] += textwrap.indent(
        textwrap.dedent(
            """

            class RHNotFound(RH):
                def not_found(self):
                    return "gone"
            """
        ),
        "    ",
    )
    files["app/routes.py"] += (
        'from app.controllers import RHNotFound\nbp.add_url_rule("/nf", "nf", RHNotFound)\n'
    )
    check(
        files,
        {
            "RHThing._process": ("inline", False),
            "RHThingEdit._process_GET": ("inline", False),
            "RHThingEdit._process_POST": ("offloaded", False),
            "RHNotFound.process": ("inline", False),
        },
    )


def test_a_local_rebound_from_its_own_value_keeps_the_hook(check):
    # res = make_response(res): the res read on the right is the hook's value, so RHTerms
    # is named by _process, not by the guard _check_terms it also overrides
    files = project(SHOW_EDIT + '    bp.add_url_rule("/t", "t", RHTerms)\n')
    files["app/rh.py"] = files["app/rh.py"].replace(
        "response = current_app.make_response(res)\n            return response",
        "res = current_app.make_response(res)\n            return res",
    )
    assert "return res\n" in files["app/rh.py"]
    check(
        files,
        {
            "RHThing._process": ("inline", False),
            "RHThingEdit._process_GET": ("inline", False),
            "RHThingEdit._process_POST": ("offloaded", False),
            "RHTerms._process": ("inline", False),
        },
    )
