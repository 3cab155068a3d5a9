"""A value annotated with a queue library's type is that system's object (issue 14, round 6,
item 17): ``actor: Actor[Any, Any] = broker.get_actor(name)`` then
``actor.send_with_options(...)`` is a Dramatiq dispatch whatever ``get_actor`` is, as
``task: Task`` makes ``task.delay()`` Celery's and ``queue: Queue`` makes ``queue.enqueue()``
RQ's. The annotation must name the library (through the module's imports), not a project
class of the same name. Snippets of audited projects (source text only, nothing runs)."""

from __future__ import annotations

import pytest

MODELS = """
    from typing import Any

    from django.db import models
    {imports}

    class Schedule(models.Model):
        actor_name = models.TextField()

        def send(self):
            broker = get_broker()
            {body}
"""
VIEWS = """
    from django.http import JsonResponse
    from shop.models import Schedule

    def run_schedule(request, pk):
        schedule = Schedule.objects.get(pk=pk)
        schedule.send()
        return JsonResponse({"ok": True})
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [path("schedules/<int:pk>/run/", views.run_schedule)]
"""
PROJECT_ACTOR = """
    class Actor:
        def send_with_options(self, **options):
            return options

    def get_broker():
        return None
"""
DRAMATIQ = "from dramatiq import get_broker\n    from dramatiq.actor import Actor"
SEND = """actor: Actor[Any, Any] = broker.get_actor(self.actor_name)
            return actor.send_with_options(args=(self.pk,), kwargs={})"""


def files(imports: str, body: str) -> dict[str, str]:
    return {
        "shop/__init__.py": "",
        "shop/actors.py": PROJECT_ACTOR,
        "shop/models.py": MODELS.format(imports=imports, body=body),
        "shop/views.py": VIEWS,
        "shop/urls.py": URLS,
    }


def run(check, imports: str, body: str, status: str):
    report = check(files(imports, body), {"run_schedule": (status, False)})
    (endpoint,) = report.endpoints
    return endpoint


def test_a_local_annotated_dramatiq_actor_sends_a_dramatiq_message(check):
    endpoint = run(check, DRAMATIQ, SEND, "offloaded")
    (dispatch,) = [e for e in endpoint.evidence if e.kind == "dispatch"]
    assert dispatch.queue_system == "dramatiq"
    assert dispatch.via == ("shop/views.py:run_schedule", "shop/models.py:Schedule.send")
    assert endpoint.confidence == "certain"


@pytest.mark.parametrize(
    ("imports", "body", "system"),
    [
        (  # the class by its package, generic arguments and all
            "import dramatiq\n    from dramatiq import get_broker",
            """actor: dramatiq.Actor[Any, Any] = broker.get_actor(self.actor_name)
            actor.send(self.pk)""",
            "dramatiq",
        ),
        (  # a parameter annotated Optional[Actor]
            "from typing import Optional\n    from dramatiq import Actor, get_broker",
            """def go(actor: Optional[Actor] = None):
                actor.send_with_options(args=(1,))
            go(broker.get_actor(self.actor_name))""",
            "dramatiq",
        ),
        (  # what a function annotated to return an Actor returns
            "from dramatiq import Actor, get_broker",
            """def pick() -> "Actor[Any, Any]":
                return broker.get_actor(self.actor_name)
            pick().send()""",
            "dramatiq",
        ),
        (
            "from celery import Task, current_app as get_broker",
            """task: Task = broker.tasks[self.actor_name]
            task.delay(self.pk)""",
            "celery",
        ),
        (
            "from celery.canvas import Signature\n    from shop.actors import get_broker",
            """sig: Signature = broker.pick(self.actor_name)
            sig.apply_async()""",
            "celery",
        ),
        (
            "from rq import Queue\n    from shop.actors import get_broker",
            """q: Queue = broker.pick(self.actor_name)
            q.enqueue("shop.jobs.run", self.pk)""",
            "rq",
        ),
    ],
)
def test_a_value_annotated_with_a_queue_class_dispatches_to_its_system(
    check, imports, body, system
):
    endpoint = run(check, imports, body, "offloaded")
    (dispatch,) = [e for e in endpoint.evidence if e.kind == "dispatch"]
    assert dispatch.queue_system == system
    assert endpoint.confidence == "certain"


def test_a_project_class_named_actor_is_not_dramatiqs(check):
    run(check, "from shop.actors import Actor, get_broker", SEND, "inline")


def test_an_annotated_actor_with_no_dispatch_call_is_not_a_dispatch(check):
    body = """actor: Actor[Any, Any] = broker.get_actor(self.actor_name)
            return actor.message(self.pk)"""
    run(check, DRAMATIQ, body, "inline")
