"""Queue systems other than Celery count as offloaded, and the evidence names the system
(issue 14 item 4). Snippets of audited projects: source text only, nothing runs."""

from __future__ import annotations

import json

from controlplane.migrations_audit.formatters import get_formatter


def flask(body: str, imports: str) -> str:
    return f"""
from flask import Flask
{imports}

app = Flask(__name__)

@app.post("/x")
def handler():
{body}
    return "ok"
"""


def systems(report) -> set[str]:
    data = json.loads(get_formatter("json")(report))
    return {
        e.get("queue_system")
        for endpoint in data["endpoints"]
        for e in endpoint["evidence"]
        if e["kind"] == "dispatch"
    }


def test_rq_enqueue_on_a_queue_and_job_delay_are_offloaded_as_rq(check):
    jobs = """
        from rq.decorators import job
        from redis import Redis

        def send_mail(to):
            return to

        @job("default", connection=Redis())
        def record_event(event):
            return event
    """
    store = (
        "from rq import Queue\nfrom redis import Redis\n\njob_queue = Queue(connection=Redis())\n"
    )
    for body, imports in (
        (
            "    job_queue.enqueue(send_mail, 'a@b')",
            "from store import job_queue\nfrom jobs import send_mail",
        ),
        (
            "    Queue(connection=Redis()).enqueue_call(func=send_mail)",
            "from rq import Queue\nfrom redis import Redis\nfrom jobs import send_mail",
        ),
        ("    django_rq.enqueue(send_mail, 'x')", "import django_rq\nfrom jobs import send_mail"),
        ("    record_event.delay({'e': 1})", "from jobs import record_event"),
    ):
        report = check(
            {"jobs.py": jobs, "store.py": store, "app.py": flask(body, imports)},
            {"handler": ("offloaded", False)},
        )
        assert systems(report) == {"rq"}, body


def test_rq_through_a_project_helper_that_returns_the_queue(check):
    lib = """
        import rq
        from redis import Redis

        def get_queue(name="default"):
            return rq.Queue(name, connection=Redis())

        def enqueue(fn, args=None):
            return get_queue().enqueue_call(func=fn, args=args or [])
    """
    jobs = "def reindex(x):\n    return x\n"
    report = check(
        {
            "lib.py": lib,
            "jobs.py": jobs,
            "app.py": flask(
                "    enqueue(reindex, [1])", "from lib import enqueue\nfrom jobs import reindex"
            ),
        },
        {"handler": ("offloaded", False)},
    )
    assert systems(report) == {"rq"}


def test_dramatiq_huey_and_taskiq_are_offloaded_and_named(check):
    dramatiq_jobs = "import dramatiq\n\n@dramatiq.actor\ndef crunch(x):\n    return x\n"
    huey_jobs = (
        "from huey import RedisHuey\n\nhuey = RedisHuey()\n\n"
        "@huey.task()\ndef crunch(x):\n    return x\n"
    )
    taskiq_jobs = (
        "from taskiq_redis import ListQueueBroker\n\nbroker = ListQueueBroker('redis://')\n\n"
        "@broker.task\nasync def crunch(x):\n    return x\n"
    )
    cases = (
        (dramatiq_jobs, "    crunch.send(1)", "dramatiq"),
        (dramatiq_jobs, "    crunch.send_with_options(args=(1,), delay=10)", "dramatiq"),
        (huey_jobs, "    crunch(1)", "huey"),
        (huey_jobs, "    crunch.schedule((1,), delay=10)", "huey"),
        (taskiq_jobs, "    crunch.kiq(1)", "taskiq"),
    )
    for jobs, body, system in cases:
        report = check(
            {"jobs.py": jobs, "app.py": flask(body, "from jobs import crunch")},
            {"handler": ("offloaded", False)},
        )
        assert systems(report) == {system}, body


def test_a_message_enqueued_on_dramatiqs_broker_is_offloaded(check):
    # round 9, item 52: a message decoded from storage, put back on its queue
    for body, imports in (
        (
            "    broker = get_broker()\n    broker.enqueue(Message.decode(b'...'))",
            "from dramatiq import Message\nfrom dramatiq.broker import get_broker",
        ),
        ("    dramatiq.get_broker().enqueue(message)", "import dramatiq\nmessage = None"),
    ):
        report = check({"app.py": flask(body, imports)}, {"handler": ("offloaded", False)})
        assert systems(report) == {"dramatiq"}, body
    # a broker of the project's own that happens to have an enqueue: not Dramatiq's
    jobs = (
        "class Broker:\n    def enqueue(self, m):\n        return m\n\n\n"
        "def get_broker():\n    return Broker()\n"
    )
    check(
        {
            "jobs.py": jobs,
            "app.py": flask("    get_broker().enqueue(1)", "from jobs import get_broker"),
        },
        {"handler": ("inline", False)},
    )


def test_dramatiq_compositions_and_taskiqs_kicker_are_offloaded(check):
    # round 9, item 55
    jobs = (
        "import dramatiq\nfrom taskiq_redis import ListQueueBroker\n\n"
        "broker = ListQueueBroker('redis://')\n\n"
        "@dramatiq.actor\ndef crunch(x):\n    return x\n\n"
        "@broker.task\nasync def kick(x):\n    return x\n"
    )
    imports = "from dramatiq import group, pipeline\nfrom jobs import crunch, kick"
    for body, system in (
        ("    group([crunch.message(1), crunch.message(2)]).run()", "dramatiq"),
        ("    steps = pipeline(crunch.message(i) for i in range(3))\n    steps.run()", "dramatiq"),
        ("    kick.kicker().with_labels(delay=5).kiq(1)", "taskiq"),
    ):
        report = check(
            {"jobs.py": jobs, "app.py": flask(body, imports)}, {"handler": ("offloaded", False)}
        )
        assert systems(report) == {system}, body
    # a message built and never run or sent is no dispatch
    check(
        {"jobs.py": jobs, "app.py": flask("    group([crunch.message(1)])", imports)},
        {"handler": ("inline", False)},
    )


def test_rq_schedulers_delayed_enqueue_is_offloaded(check):
    # round 9, item 56
    imports = (
        "from datetime import timedelta\nfrom redis import Redis\n"
        "from rq_scheduler import Scheduler\nfrom jobs import crunch\n"
        "scheduler = Scheduler(connection=Redis())"
    )
    jobs = "def crunch(x):\n    return x\n"
    for body in (
        "    scheduler.enqueue_in(timedelta(minutes=5), crunch, 1)",
        "    Scheduler(connection=Redis()).enqueue_at(None, crunch, 1)",
    ):
        report = check(
            {"jobs.py": jobs, "app.py": flask(body, imports)}, {"handler": ("offloaded", False)}
        )
        assert systems(report) == {"rq"}, body


def test_arq_enqueue_job_is_offloaded_as_arq(check):
    arq = """
from fastapi import APIRouter
from arq import create_pool
from arq.connections import RedisSettings

router = APIRouter()

@router.post("/x")
async def handler():
    redis = await create_pool(RedisSettings())
    await redis.enqueue_job("crunch", 1)
"""
    report = check({"api.py": arq}, {"handler": ("offloaded", False)})
    assert systems(report) == {"arq"}


def test_two_systems_side_by_side_are_both_named(check):
    jobs = """
        import dramatiq
        from celery import shared_task

        @dramatiq.actor
        def new_way(x):
            return x

        @shared_task
        def old_way(x):
            return x
    """
    body = "    new_way.send(1)\n    old_way.delay(1)"
    report = check(
        {"jobs.py": jobs, "app.py": flask(body, "from jobs import new_way, old_way")},
        {"handler": ("offloaded", False)},
    )
    assert systems(report) == {"celery", "dramatiq"}


def test_look_alikes_of_other_queues_stay_inline(check):
    jobs = """
        import collections

        def crunch(x):
            return x

        class Mailer:
            def send(self, x):
                return x

        def plain(x):
            return x
    """
    for body, imports in (
        ("    crunch(1)", "from jobs import crunch"),  # a plain project function
        ("    Mailer().send(1)", "from jobs import Mailer"),  # .send on a project class
        ("    plain.send = None", "from jobs import plain"),
        ("    collections.deque().append(1)", "import collections"),
        ("    import heapq\n    heapq.heappush([], 1)", ""),
    ):
        check({"jobs.py": jobs, "app.py": flask(body, imports)}, {"handler": ("inline", False)})


def test_an_rq_enqueue_wrapped_in_partial_for_on_commit_is_offloaded(check):
    body = (
        "    queue = django_rq.get_queue('default')\n"
        "    transaction.on_commit(functools.partial(queue.enqueue, reindex, 1))"
    )
    imports = (
        "import functools\nimport django_rq\nfrom django.db import transaction\n"
        "from jobs import reindex"
    )
    report = check(
        {"jobs.py": "def reindex(x):\n    return x\n", "app.py": flask(body, imports)},
        {"handler": ("offloaded", False)},
    )
    assert systems(report) == {"rq"}


def test_a_partial_of_a_plain_function_is_not_a_dispatch(check):
    body = "    transaction.on_commit(functools.partial(reindex, 1))"
    imports = "import functools\nfrom django.db import transaction\nfrom jobs import reindex"
    check(
        {"jobs.py": "def reindex(x):\n    return x\n", "app.py": flask(body, imports)},
        {"handler": ("inline", False)},
    )


def test_putting_an_rq_job_back_on_its_queue_is_offloaded(check):
    for body, imports in (
        ("    rq.requeue_job('id', connection=None)", "import rq"),
        ("    django_rq.get_queue('default').enqueue_job(job)", "import django_rq\njob = None"),
    ):
        report = check({"app.py": flask(body, imports)}, {"handler": ("offloaded", False)})
        assert systems(report) == {"rq"}
