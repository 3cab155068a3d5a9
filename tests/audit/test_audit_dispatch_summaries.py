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


def test_self_calls_in_a_base_view_method_run_the_routed_class_override(run_audit):
    """Template methods: a base ``post`` calls ``self.view_action()``; the routed subclass
    that overrides it with a dispatch is offloaded, a sibling keeping the base's is not."""
    report = run_audit(
        {
            "tasks.py": """
            from celery import shared_task

            @shared_task
            def clear_events(pk):
                return pk
            """,
            "core/__init__.py": "",
            "core/generics.py": """
            from django.views.generic import View

            class ConfirmView(View):
                def post(self, request, *args, **kwargs):
                    self.view_action()
                    return "done"

                def view_action(self):
                    self.object_action()

                def object_action(self):
                    return None
            """,
            "events/__init__.py": "",
            "events/views.py": """
            from core.generics import ConfirmView
            from tasks import clear_events

            class EventClearView(ConfirmView):
                def object_action(self):
                    clear_events.apply_async(kwargs={"pk": 1})

            class EventKeepView(ConfirmView):
                pass
            """,
            "events/urls.py": """
            from django.urls import path
            from events.views import EventClearView, EventKeepView

            urlpatterns = [
                path("clear/", EventClearView.as_view()),
                path("keep/", EventKeepView.as_view()),
            ]
            """,
        }
    )
    status = {e.handler: (e.status, e.file, e.line) for e in report.endpoints}
    assert status == {
        "EventClearView.post": ("offloaded", "core/generics.py", 4),
        "EventKeepView.post": ("inline", "core/generics.py", 4),
    }


def test_super_calls_run_the_base_method_for_the_calling_class(check):
    """``super().put()`` in a routed resource runs the base ``put`` for that resource, so
    the base's ``self.post_update()`` is the resource's override (Flask-RESTful style)."""
    files = {
        "tasks.py": TASKS,
        "api.py": """
        from flask import Flask
        from flask_restful import Api, Resource
        from tasks import crunch

        app = Flask(__name__)
        api = Api(app)

        class BaseResource(Resource):
            def put(self, pk):
                self.post_update(pk)
                return "ok"

            def post_update(self, pk):
                return None

        class TaskResource(BaseResource):
            def put(self, pk):
                return super().put(pk)

            def post_update(self, pk):
                crunch.delay(pk)

        class NoteResource(BaseResource):
            def put(self, pk):
                return super().put(pk)

        api.add_resource(TaskResource, "/tasks/<pk>")
        api.add_resource(NoteResource, "/notes/<pk>")
        """,
    }
    check(files, {"TaskResource.put": ("offloaded", False), "NoteResource.put": ("inline", False)})
