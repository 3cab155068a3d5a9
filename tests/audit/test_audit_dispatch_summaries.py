"""Dispatch found by what project functions do with what they are given, not by their names
(issue 14 item 2): wrappers, task tables, strategy objects, tasks passed as parameters.
Snippets of audited projects (source text only, nothing runs)."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x

    @shared_task
    def report(x):
        return x

    def plain(x):
        return x

    def other_plain(x):
        return x
"""
HELPERS = """
    from tasks import crunch, other_plain, plain, report

    def enqueue(work, *args):
        return work.apply_async(args=args)

    def execute(strategy, x):
        strategy.delay(x)

    TASKS = {"crunch": crunch, "report": report}
    HANDLERS = {"plain": plain, "other": other_plain}

    class Runner:
        def __init__(self, job):
            self.job = job

        def run(self, x):
            self.job.delay(x)
"""


def app(body: str) -> str:
    return f"""
from flask import Flask, request
from tasks import crunch, plain
from helpers import HANDLERS, TASKS, Runner, enqueue, execute

app = Flask(__name__)

@app.post("/x")
def handler():
{body}
    return "ok"
"""


def test_a_task_passed_to_a_project_function_that_applies_it_is_offloaded(check):
    for body in ("    enqueue(crunch, 1)", "    execute(crunch, 1)"):
        report = check(
            {"tasks.py": TASKS, "helpers.py": HELPERS, "app.py": app(body)},
            {"handler": ("offloaded", False)},
        )
        assert report.endpoints[0].status == "offloaded", body


def test_a_strategy_object_given_a_task_by_its_constructor_is_offloaded(check):
    # Runner(crunch).run(1): __init__ stores the task (self.job = job), run() calls .delay
    report = check(
        {"tasks.py": TASKS, "helpers.py": HELPERS, "app.py": app("    Runner(crunch).run(1)")},
        {"handler": ("offloaded", False)},
    )
    assert report.endpoints[0].confidence == "certain"


def test_a_strategy_object_given_a_plain_function_is_not_a_dispatch(check):
    check(
        {"tasks.py": TASKS, "helpers.py": HELPERS, "app.py": app("    Runner(plain).run(1)")},
        {"handler": ("inline", False)},
    )


def test_a_plain_function_passed_to_the_same_wrapper_is_not_a_dispatch(check):
    for body in ("    execute(plain, 1)",):
        check(
            {"tasks.py": TASKS, "helpers.py": HELPERS, "app.py": app(body)},
            {"handler": ("inline", False)},
        )


def test_a_task_picked_from_a_module_level_table_is_offloaded(check):
    report = check(
        {
            "tasks.py": TASKS,
            "helpers.py": HELPERS,
            "app.py": app('    TASKS[request.args["action"]].delay(1)'),
        },
        {"handler": ("offloaded", False)},
    )
    assert report.endpoints[0].confidence == "certain"


def test_a_table_of_plain_functions_is_not_a_dispatch(check):
    check(
        {
            "tasks.py": TASKS,
            "helpers.py": HELPERS,
            "app.py": app('    HANDLERS[request.args["kind"]].delay(1)'),
        },
        {"handler": ("inline", False)},
    )
