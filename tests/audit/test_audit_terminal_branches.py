"""Handler classes whose entry is on a base, third shape: the entry's value reaches its
return through an ``if``/``else`` that binds a local in both arms, and the entry ends in an
``if``/``elif``/``else`` whose every branch returns or raises. Each branch's return is then
a final return (return_flow.main_returns), a local bound in the arms carries every arm's
value that goes on past the ``if`` (return_flow.joined), and a check called as a statement
of its own (``self._check_args()``) runs and counts but never names the endpoint, even
where the template's return gives no data flow to follow (entry_hooks._candidates).
Snippets written for the audit from the shape described in the brief, not copied from a
project."""

from __future__ import annotations

import textwrap

from tests.audit.audit_support import RH_BLUEPRINT as BLUEPRINT

RH = """
    import cProfile

    from app import config
    from app.signals import signals, values_from_signal


    class RH:
        def process(self):
            self._check_args()
            if rv := self.normalize_url():
                return rv
            if config.PROFILE:
                result = [None]
                cProfile.runctx("result[0] = self._process()", globals(), locals())
                rv = result[0]
            else:
                rv = self._process()
            signal_rv = values_from_signal(signals.process.send(type(self), rh=self, result=rv))
            if signal_rv and len(signal_rv) != 1:
                raise RuntimeError("more than one signal handler returned a value")
            elif signal_rv:
                return signal_rv[0]
            else:
                return rv

        def _check_args(self):
            pass

        def normalize_url(self):
            return None

        def _process(self):
            raise NotImplementedError
"""
CONTROLLERS = """
    from flask import request

    from app.rh import RH
    from app.tasks import notify_task


    class RHThing(RH):
        def _check_args(self):
            self.id = request.view_args["id"]

        def _process(self):
            return str(self.id)


    class RHThingSend(RH):
        def _check_args(self):
            self.id = request.view_args["id"]

        def _process(self):
            notify_task.delay(self.id)
            return "sent"


    class RHCheckSends(RH):
        def _check_args(self):
            notify_task.delay(0)


    class RHRedirecting(RH):
        def normalize_url(self):
            return "redirect"

        def _process(self):
            return "page"


    class RHOnlyRedirecting(RH):
        def normalize_url(self):
            notify_task.delay(1)
            return "redirect"
"""
SUPPORT = {
    "app/__init__.py": "",
    "app/config.py": "PROFILE = False\n",
    "app/tasks.py": """
        from celery import shared_task


        @shared_task
        def notify_task(x):
            return x
    """,
    "app/signals.py": """
        def values_from_signal(results):
            return [r for _, r in results if r is not None]


        class signals:
            process = None
    """,
    "app/blueprint.py": BLUEPRINT,
    "app/controllers.py": CONTROLLERS,
}
ROUTES = """
    from app.blueprint import MyBlueprint
    from app.controllers import (
        RHCheckSends, RHOnlyRedirecting, RHRedirecting, RHThing, RHThingSend,
    )

    bp = MyBlueprint("things", __name__, url_prefix="/things")
"""


def project(rules: str, rh: str = RH) -> dict[str, str]:
    return {
        **SUPPORT,
        "app/rh.py": rh,
        "app/routes.py": textwrap.dedent(ROUTES) + textwrap.dedent(rules),
    }


def where(report):
    return {e.handler: (e.file, e.line) for e in report.endpoints}


SHOW_SEND = (
    'bp.add_url_rule("/<int:id>", "show", RHThing)\n'
    'bp.add_url_rule("/<int:id>/send", "send", RHThingSend, methods=("POST",))\n'
)


def test_each_branch_of_a_terminal_if_chain_is_a_final_return(check):
    # the brief's snippet: a bare check, the hook's value through both arms of an if/else,
    # then if/elif/else returning; each routed class is named by its _process
    report = check(
        project(SHOW_SEND),
        {"RHThing._process": ("inline", False), "RHThingSend._process": ("offloaded", False)},
    )
    assert where(report) == {
        "RHThing._process": ("app/controllers.py", 11),
        "RHThingSend._process": ("app/controllers.py", 19),
    }


def test_a_guard_overridden_next_to_the_hook_leaves_the_hook_the_name(check):
    # normalize_url's value is returned by a guard before the chain; the chain's returns
    # give the data flow, which names _process (was: the guard, returned first)
    report = check(
        project('bp.add_url_rule("/r", "r", RHRedirecting)\n'),
        {"RHRedirecting._process": ("inline", False)},
    )
    assert where(report) == {"RHRedirecting._process": ("app/controllers.py", 33)}


def test_a_guard_the_class_overrides_alone_does_not_name_it(check):
    # negative: only the guard is overridden; its early return is no final return, so the
    # class keeps the base's entry, and the guard's dispatch still counts
    report = check(
        project('bp.add_url_rule("/o", "o", RHOnlyRedirecting)\n'),
        {"RHOnlyRedirecting.process": ("offloaded", False)},
    )
    assert where(report) == {"RHOnlyRedirecting.process": ("app/rh.py", 8)}


def test_a_check_called_as_a_statement_runs_but_does_not_name_the_endpoint(check):
    # negative: _check_args is overridden alone and dispatches; its value is discarded
    report = check(
        project('bp.add_url_rule("/c", "c", RHCheckSends)\n'),
        {"RHCheckSends.process": ("offloaded", False)},
    )
    assert where(report) == {"RHCheckSends.process": ("app/rh.py", 8)}


SWAPPED = RH.replace(
    """            if config.PROFILE:
                result = [None]
                cProfile.runctx("result[0] = self._process()", globals(), locals())
                rv = result[0]
            else:
                rv = self._process()
""",
    """            if not config.PROFILE:
                rv = self._process()
            else:
                result = [None]
                cProfile.runctx("result[0] = self._process()", globals(), locals())
                rv = result[0]
""",
)


def test_a_local_bound_in_both_arms_carries_both_values(check):
    # the arm binding the hook's value comes first: the value after the if is either arm's,
    # not only the last one written (which comes from no self-call)
    assert SWAPPED != RH
    report = check(
        project(SHOW_SEND + 'bp.add_url_rule("/r", "r", RHRedirecting)\n', rh=SWAPPED),
        {
            "RHThing._process": ("inline", False),
            "RHThingSend._process": ("offloaded", False),
            "RHRedirecting._process": ("inline", False),
        },
    )
    assert where(report)["RHRedirecting._process"] == ("app/controllers.py", 33)


LEAVING_ARM = RH.replace(
    """            if config.PROFILE:
                result = [None]
                cProfile.runctx("result[0] = self._process()", globals(), locals())
                rv = result[0]
            else:
                rv = self._process()
""",
    """            if config.PROFILE:
                rv = self.normalize_url()
                raise RuntimeError(rv)
            else:
                rv = self._process()
""",
).replace("            if rv := self.normalize_url():\n                return rv\n", "")


def test_an_arm_that_leaves_gives_the_local_no_value(check):
    # negative: the arm binding normalize_url's value raises, so after the if the local is
    # only the other arm's: the class overriding normalize_url alone keeps the base's entry
    assert "raise RuntimeError(rv)" in LEAVING_ARM and ":= self.normalize_url()" not in LEAVING_ARM
    report = check(
        project('bp.add_url_rule("/o", "o", RHOnlyRedirecting)\n', rh=LEAVING_ARM),
        {"RHOnlyRedirecting.process": ("offloaded", False)},
    )
    assert where(report) == {"RHOnlyRedirecting.process": ("app/rh.py", 8)}


TWO_LEVELS = """
    from flask import current_app

    from app.signals import signals, values_from_signal


    class RH:
        def process(self):
            res = self._do_process()
            return current_app.make_response(res)

        def _do_process(self):
            if rv := self.normalize_url():
                return rv
            self._check_args()
            rv = self._process()
            signal_rv = values_from_signal(signals.process.send(type(self), rh=self, result=rv))
            if signal_rv:
                return signal_rv[0]
            elif rv is None:
                raise LookupError("no response")
            else:
                return rv

        def _check_args(self):
            pass

        def normalize_url(self):
            return None

        def _process(self):
            raise NotImplementedError
"""


def test_a_terminal_chain_one_template_down_is_followed(check):
    # process -> res = self._do_process(); _do_process ends in the chain
    report = check(
        project(
            SHOW_SEND
            + 'bp.add_url_rule("/r", "r", RHRedirecting)\n'
            + 'bp.add_url_rule("/c", "c", RHCheckSends)\n',
            rh=TWO_LEVELS,
        ),
        {
            "RHThing._process": ("inline", False),
            "RHThingSend._process": ("offloaded", False),
            "RHRedirecting._process": ("inline", False),
            "RHCheckSends.process": ("offloaded", False),
        },
    )
    assert where(report)["RHCheckSends.process"] == ("app/rh.py", 7)


NO_FLOW = """
    from flask import jsonify

    from app.rh import RH
    from app.tasks import notify_task


    class RHJob(RH):
        def process(self):
            self._check_args()
            self.result = self._run()
            return jsonify(self.result)

        def _run(self):
            return None


    class RHJobRun(RHJob):
        def _run(self):
            notify_task.delay(2)
            return "queued"


    class RHJobChecked(RHJob):
        def _check_args(self):
            notify_task.delay(3)
"""


def test_without_data_flow_the_fallback_skips_calls_whose_value_is_dropped(check):
    # the template returns an attribute, so the fallback (last self-call first) decides:
    # _run's value is kept, it names RHJobRun; _check_args's is dropped, so RHJobChecked,
    # which overrides only that, keeps the template's name, its dispatch counted
    files = project(
        "from app.jobs import RHJobChecked, RHJobRun\n"
        'bp.add_url_rule("/run", "run", RHJobRun, methods=("POST",))\n'
        'bp.add_url_rule("/checked", "checked", RHJobChecked, methods=("POST",))\n'
    )
    files["app/jobs.py"] = NO_FLOW
    report = check(
        files,
        {"RHJobRun._run": ("offloaded", False), "RHJobChecked.process": ("offloaded", False)},
    )
    assert where(report) == {
        "RHJobRun._run": ("app/jobs.py", 18),
        "RHJobChecked.process": ("app/jobs.py", 8),
    }
