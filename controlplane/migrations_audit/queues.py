"""Queue systems other than Celery (issue 14 item 4): RQ, Dramatiq, Huey, arq, Taskiq and
django-q (``django_q``, django-q2 too).

Teams mid-migration often run two, so each dispatch names its system (``queue_system`` in
the JSON evidence). Recognition is by shape, as for Celery: the method that enqueues, on a
receiver shown (or named) to be that system's queue, or a function decorated as that
system's job.
"""

from __future__ import annotations

from .facts import Decorator

CELERY = "celery"
RQ = "rq"
DRAMATIQ = "dramatiq"
HUEY = "huey"
ARQ = "arq"
TASKIQ = "taskiq"
DJANGO_Q = "django-q"

# rq.Queue().enqueue(f, ...), django_rq.enqueue(f), queue.enqueue_call(func=f)
# a Celery task (or signature) applied; Celery 5.4's Django task class also enqueues on commit
CELERY_APPLY = frozenset({"delay", "apply_async", "delay_on_commit", "apply_async_on_commit"})
RQ_ENQUEUE = frozenset({"enqueue", "enqueue_call", "enqueue_at", "enqueue_in", "enqueue_many"})
# Dramatiq actors: f.send(...), f.send_with_options(args=...)
DRAMATIQ_SEND = frozenset({"send", "send_with_options"})
# Huey tasks also run later when scheduled: f.schedule(args, delay=10)
HUEY_SCHEDULE = frozenset({"schedule"})
RQ_REQUEUE = frozenset({"requeue_job", "enqueue_job", "_enqueue_job"})
ARQ_ENQUEUE = frozenset({"enqueue_job"})  # await redis.enqueue_job("name", ...)
TASKIQ_KICK = frozenset({"kiq"})  # await f.kiq(...)
# Dramatiq's global broker, whose enqueue(message) sends a message built elsewhere
_DRAMATIQ_BROKERS = frozenset({"dramatiq.get_broker()", "dramatiq.broker.get_broker()"})
# Dramatiq's compositions of messages, whose run() enqueues them
_DRAMATIQ_COMPOSITIONS = frozenset(
    f"dramatiq.{path}{kind}()" for path in ("", "composition.") for kind in ("group", "pipeline")
)
_HUEY_DECORATORS = frozenset({"task", "periodic_task", "db_task", "db_periodic_task"})
_HUEY_DECORATORS = frozenset({"task", "periodic_task", "db_task", "db_periodic_task"})
_RQ_ROOTS = ("rq.", "django_rq.", "flask_rq2.", "flask_rq.", "rq_scheduler.")
# django-q: async_task(f, ...) queues f for the cluster's workers, schedule() for later,
# AsyncTask(f).run() / Chain().run() / Iter().run() the same as objects (PATTERNS.md item 134)
_DJANGO_Q_CALLS = frozenset(
    f"django_q.tasks.{name}"
    for name in (
        "async_task",
        "async_chain",
        "async_iter",
        "schedule",
        "AsyncTask().run",
        "Chain().run",
        "Iter().run",
    )
)


def _last(name: str) -> str:
    return name.rstrip("()[]").rsplit(".", 1)[-1].lstrip("~").lower()


def looks_like_rq_queue(receiver: str) -> bool:
    """``rq.Queue()``, ``django_rq.get_queue()``, ``queue_store.job_queue``, ``get_queue(q)``;
    rq-scheduler's ``Scheduler()`` (``scheduler.enqueue_in(delta, f)``)."""
    last = _last(receiver)
    return receiver.startswith(_RQ_ROOTS) or "queue" in last or "scheduler" in last


def system_of_decorators(decorators: list[Decorator]) -> str:
    """Which system a decorated function is a job of ("" when none)."""
    for dec in decorators:
        base, tail = dec.base, dec.tail
        if tail == "job" or base.startswith(_RQ_ROOTS):
            return RQ
        if tail == "actor" or base.startswith("dramatiq."):
            return DRAMATIQ
        if "huey" in base.lower() and tail in _HUEY_DECORATORS:
            return HUEY
        owner = base.rpartition(".")[0]
        if tail == "task" and (base.startswith("taskiq") or "broker" in _last(owner)):
            return TASKIQ  # @broker.task
        if tail in ("task", "shared_task", "periodic_task"):
            return CELERY
    return ""


def external_system(name: str) -> str:
    """A call outside the project that enqueues by itself: ``django_rq.enqueue(f)``,
    ``rq.Queue().enqueue(f)``, ``ArqRedis().enqueue_job("f")``."""
    if name in _DJANGO_Q_CALLS:
        return DJANGO_Q
    base, _, tail = name.rpartition(".")
    if tail in RQ_ENQUEUE and base and looks_like_rq_queue(base):
        return RQ
    if tail in RQ_REQUEUE and (name.startswith(_RQ_ROOTS) or (base and looks_like_rq_queue(base))):
        return RQ  # rq.requeue_job(id), queue.enqueue_job(job): a job put back on its queue
    if tail in RQ_ENQUEUE and name.startswith("django_rq."):
        return RQ
    if tail in ARQ_ENQUEUE and base:
        return ARQ
    if tail in DRAMATIQ_SEND and base.startswith("dramatiq."):
        return DRAMATIQ
    if tail == "enqueue" and base in _DRAMATIQ_BROKERS:
        return DRAMATIQ  # get_broker().enqueue(message): a message put on its queue
    if tail == "run" and base in _DRAMATIQ_COMPOSITIONS:
        return DRAMATIQ  # group([a.message(), ...]).run(): each message enqueued
    return ""
