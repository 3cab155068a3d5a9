"""The demo fleet's Celery app: JSON only, events on, three routed queues."""

from __future__ import annotations

import json
import os
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

# Queues are created on demand (task_create_missing_queues): exchange and routing key = name.
QUEUES = ("default", "reports", "slow")


def quorum_conf(names: list[str]) -> dict[str, Any]:
    """Celery settings declaring `names` as quorum queues on topic exchanges."""
    queues = [
        Queue(name, Exchange(name, type="topic"), routing_key=name,
              queue_arguments={"x-queue-type": "quorum"})
        for name in names
    ]  # fmt: skip
    return {"task_queues": queues, "task_default_queue": names[0]}


def make_app() -> Celery:
    broker = os.environ.get("CONTROLPLANE_BROKER_URL") or "redis://127.0.0.1:6379/0"
    backend = os.environ.get("CONTROLPLANE_RESULT_BACKEND") or (
        broker if broker.startswith(("redis://", "rediss://")) else None
    )
    celery_app = Celery("worker_tasks", broker=broker, backend=backend)
    celery_app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_track_started=True,
        task_acks_late=True,
        task_reject_on_worker_lost=False,
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        task_routes={
            "worker_tasks.tasks.csv_batch": {"queue": "reports"},
            "worker_tasks.tasks.slow": {"queue": "slow"},
        },
        broker_connection_retry_on_startup=True,
        result_expires=86400,
        worker_hijack_root_logger=False,
    )
    # A RabbitMQ fleet on quorum queues (topic exchanges): Celery 5.5+ then sends ETA tasks
    # through its native delayed delivery queues instead of holding them in the workers.
    quorum = os.environ.get("WORKER_TASKS_QUORUM_QUEUES")
    if quorum:
        celery_app.conf.update(quorum_conf(quorum.split(",")))
    # A fleet that requeues a task whose pool process died (the message is delivered again).
    if os.environ.get("WORKER_TASKS_REJECT_ON_WORKER_LOST") == "1":
        celery_app.conf.task_reject_on_worker_lost = True
    # A fleet whose Redis transport keeps keys elsewhere (prefix, separator, priority steps).
    options = os.environ.get("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS")
    if options:
        celery_app.conf.broker_transport_options = json.loads(options)
    return celery_app


app = make_app()

# The console's worker hook: a restarting worker leaves paused queues out before consuming.
if os.environ.get("CONTROLPLANE_WORKER_HOOK") == "1":
    from controlplane.worker_hook import install

    install(app)
