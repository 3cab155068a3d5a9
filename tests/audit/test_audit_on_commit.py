"""``transaction.on_commit(fn)``: what ``fn`` does runs after the commit, within the request,
so a dispatch in it counts as offloaded (issue 14, brief item 2). Snippets of audited
projects (source text only, nothing runs)."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x

    def plain(x):
        return x
"""
JOBS = """
    from django.db import transaction
    from tasks import crunch, plain

    def create_and_start(pk):
        transaction.on_commit(lambda: crunch.delay(pk))

    def start_job():
        crunch.delay(1)

    def log_job():
        plain(1)

    class Job:
        def create_and_start(self):
            transaction.on_commit(self.start)

        def create_only(self):
            transaction.on_commit(self.log)

        def start(self):
            crunch.delay(2)

        def log(self):
            return plain(2)
"""


def view(body: str) -> str:
    return f"""
from functools import partial
from django.db import transaction
from jobs import Job, create_and_start, log_job, start_job
from tasks import crunch, plain

def handler(request):
{body}
"""


def urls() -> str:
    return """
    from django.urls import path
    from views import handler

    urlpatterns = [path("x/", handler)]
    """


def run(check, body: str, status: str):
    files = {"tasks.py": TASKS, "jobs.py": JOBS, "views.py": view(body), "urls.py": urls()}
    return check(files, {"handler": (status, False)})


def test_a_named_function_or_bound_method_given_to_on_commit_runs_its_dispatch(check):
    for body in (
        "    transaction.on_commit(start_job)",
        "    create_and_start(1)",  # on_commit(lambda: ...) in a helper
        "    Job().create_and_start()",  # on_commit(self.start)
        "    job = Job()\n    transaction.on_commit(job.start)",
    ):
        report = run(check, body, "offloaded")
        [endpoint] = report.endpoints
        dispatch = [e for e in endpoint.evidence if e.kind == "dispatch"]
        assert dispatch and dispatch[0].file == "jobs.py", body


def test_on_commit_callbacks_that_do_not_dispatch_are_inline(check):
    for body in (
        "    transaction.on_commit(log_job)",
        "    Job().create_only()",
        "    job = Job()\n    transaction.on_commit(job.log)",
    ):
        run(check, body, "inline")


def test_a_task_dispatch_bound_with_partial_is_a_dispatch(check):
    """``partial(crunch.delay, pk)`` exists to be called and calling it enqueues; given to
    ``on_commit`` it runs when the request's transaction commits (PATTERNS.md, round 3)."""
    for body in (
        "    transaction.on_commit(partial(crunch.delay, 1))",
        "    transaction.on_commit(partial(crunch.apply_async, args=(1,)))",
    ):
        report = run(check, body, "offloaded")
        [endpoint] = report.endpoints
        [dispatch] = [e for e in endpoint.evidence if e.kind == "dispatch"]
        assert (dispatch.file, dispatch.line, dispatch.queue_system) == ("views.py", 7, "celery")
        assert dispatch.call.startswith("partial(crunch.")


def test_a_partial_of_a_plain_function_or_of_a_non_task_delay_is_not_a_dispatch(check):
    for body in (
        "    transaction.on_commit(partial(plain, 1))",
        "    transaction.on_commit(partial(plain.delay, 1))",
        "    transaction.on_commit(partial(Job().log))",
    ):
        run(check, body, "inline")


def test_a_partial_of_a_project_function_runs_that_function(check):
    run(check, "    transaction.on_commit(partial(Job().start))", "offloaded")
    run(check, "    job = Job()\n    transaction.on_commit(partial(job.start))", "offloaded")


def test_a_classmethod_that_builds_cls_and_commits_its_bound_method(check):
    """``@classmethod`` makes the first parameter the class: ``cls()`` is an instance."""
    jobs = JOBS + (
        "\n    class Runner:\n"
        "        @classmethod\n"
        "        def create_and_start(cls):\n"
        "            runner = cls()\n"
        "            transaction.on_commit(runner.start)\n"
        "            return runner\n"
        "\n"
        "        @classmethod\n"
        "        def create_only(cls):\n"
        "            runner = cls()\n"
        "            transaction.on_commit(runner.log)\n"
        "\n"
        "        def start(self):\n"
        "            crunch.delay(3)\n"
        "\n"
        "        def log(self):\n"
        "            return plain(3)\n"
    )
    imports = "from jobs import Runner\n"
    for body, status in (
        ("    Runner.create_and_start()", "offloaded"),
        ("    Runner.create_only()", "inline"),
    ):
        files = {
            "tasks.py": TASKS,
            "jobs.py": jobs,
            "views.py": view(body).replace("from jobs import", imports + "from jobs import", 1),
            "urls.py": urls(),
        }
        check(files, {"handler": (status, False)})
