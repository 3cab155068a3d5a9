"""Handler classes whose entry is on a base, fourth shape: a mid base overrides the entry's
template method and calls the base's by class name with an explicit ``self``
(``rv = RH._do_process(self)``), inside a ``with`` and a ``try`` whose body ends in
``return rv`` and whose every handler returns or raises. The class-named call runs like
``super()._do_process()``: the routed class is carried on, so the base's ``self._process()``
reaches the routed class's override, which names the endpoint (entry_hooks._walk,
callgraph.edge_targets). Snippets written for the audit from the shape described in the
brief, not copied from a project."""

from __future__ import annotations

import textwrap

from tests.audit.audit_support import RH_BLUEPRINT as BLUEPRINT

RH = """
    from flask import current_app


    class RH:
        def process(self):
            res = self._do_process()
            return current_app.make_response(res)

        def _do_process(self):
            self._check_access()
            return self._process()

        def _check_access(self):
            pass

        def _process(self):
            raise NotImplementedError
"""
MID = """
    from contextlib import nullcontext

    from app.rh import RH


    class RHProtected(RH):
        def _do_process(self):
            with nullcontext():
                try:
                    rv = RH._do_process(self)
                    self._log()
                    return rv
                except PermissionError:
                    return self._show_form()
                except LookupError:
                    raise

        def _log(self):
            pass

        def _show_form(self):
            return "form"
"""
CONTROLLERS = """
    from app.mid import RHProtected
    from app.tasks import notify_task


    class RHThing(RHProtected):
        def _process(self):
            return "thing"


    class RHThingSend(RHProtected):
        def _process(self):
            notify_task.delay(1)
            return "sent"
"""
ROUTES = """
    from app.blueprint import MyBlueprint
    from app.controllers import RHThing, RHThingSend

    bp = MyBlueprint("things", __name__, url_prefix="/things")
    bp.add_url_rule("/show", "show", RHThing)
    bp.add_url_rule("/send", "send", RHThingSend, methods=("POST",))
"""
TASKS = """
    from celery import shared_task


    @shared_task
    def notify_task(x):
        return x
"""


def project(mid: str = MID) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/rh.py": RH,
        "app/mid.py": mid,
        "app/blueprint.py": BLUEPRINT,
        "app/controllers.py": CONTROLLERS,
        "app/routes.py": textwrap.dedent(ROUTES),
    }


def where(report):
    return {e.handler: (e.file, e.line) for e in report.endpoints}


def test_a_base_template_called_by_class_name_reaches_the_routed_hook(check):
    # RHProtected._do_process -> RH._do_process(self) -> self._process(): each routed class
    # is named by its own _process, and only the one that dispatches is offloaded
    report = check(
        project(),
        {"RHThing._process": ("inline", False), "RHThingSend._process": ("offloaded", False)},
    )
    assert where(report) == {
        "RHThing._process": ("app/controllers.py", 6),
        "RHThingSend._process": ("app/controllers.py", 11),
    }


FALLS_THROUGH = MID.replace(
    """                except PermissionError:
                    return self._show_form()
                except LookupError:
                    raise
""",
    """                except PermissionError:
                    self._log()
                return self._show_form()
""",
)


def test_a_try_whose_handler_falls_through_is_no_terminal_statement(check):
    # negative: after the try the mid base returns _show_form's value, the final return; the
    # try body's ``return rv`` is no longer the answer, so the walk does not go through the
    # class-named call and the classes keep the override the entry reaches; the call graph
    # still runs the routed hook, so the dispatch counts
    assert FALLS_THROUGH != MID
    report = check(
        project(FALLS_THROUGH),
        {
            "RHThing._do_process": ("inline", False),
            "RHThingSend._do_process": ("offloaded", False),
        },
    )
    assert set(where(report).values()) == {("app/mid.py", 7)}


NOT_SELF = MID.replace("rv = RH._do_process(self)", "rv = RH._do_process(self.delegate)").replace(
    "        def _log(self):",
    "        delegate = None\n\n        def _log(self):",
)


def test_a_class_named_call_on_another_object_does_not_carry_the_routed_class(check):
    # negative: ``RH._do_process(self.delegate)`` runs the base's template for some other
    # object, not for the routed class: the endpoint keeps the mid base's override, and the
    # base's ``self._process()`` is not the routed class's: as for any receiver whose class
    # is unknown, every override is a guess, so RHThing is offloaded too (inline above)
    assert NOT_SELF != MID
    report = check(
        project(NOT_SELF),
        {
            "RHThing._do_process": ("offloaded", False),
            "RHThingSend._do_process": ("offloaded", False),
        },
    )
    assert set(where(report).values()) == {("app/mid.py", 7)}


RH_WITH_FLAG = RH.replace(
    """        def _do_process(self):
            self._check_access()
            return self._process()
""",
    """        def _do_process(self, audit=True):
            self._check_access()
            if audit:
                notify_task.delay(0)
            return self._process()
""",
).replace(
    "from flask import current_app",
    "from flask import current_app\n\n    from app.tasks import notify_task",
)


def test_the_arguments_after_self_bind_to_the_parameters_after_self(check):
    # ``RH._do_process(self, False)``: False is ``audit`` (self is not passed again), so the
    # base's dispatch under ``if audit`` does not run for RHThing
    assert "if audit:" in RH_WITH_FLAG and "import notify_task" in RH_WITH_FLAG
    files = project(MID.replace("RH._do_process(self)", "RH._do_process(self, False)"))
    files["app/rh.py"] = RH_WITH_FLAG
    check(
        files,
        {"RHThing._process": ("inline", False), "RHThingSend._process": ("offloaded", False)},
    )


def test_a_flag_left_at_its_default_runs_the_base_dispatch(check):
    # negative: ``RH._do_process(self)`` leaves ``audit`` True: both classes dispatch
    files = project()
    files["app/rh.py"] = RH_WITH_FLAG
    check(
        files,
        {"RHThing._process": ("offloaded", False), "RHThingSend._process": ("offloaded", False)},
    )
