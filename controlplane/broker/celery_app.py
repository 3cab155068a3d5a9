"""The console's own Celery app: no tasks of its own, it talks to the fleet's broker."""

from __future__ import annotations

from celery import Celery

from controlplane.config import Settings


def make_celery(settings: Settings) -> Celery:
    """A Celery app pointed at the fleet's broker and result backend, JSON only."""
    app = Celery(
        "controlplane",
        broker=settings.broker_url,
        backend=settings.effective_result_backend,
        set_as_current=False,
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_serializer="json",
        task_send_sent_event=True,
        broker_connection_retry_on_startup=False,
        broker_connection_timeout=2,
        # An operator waits for the answer: fail in about a second when the broker is down.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        broker_transport_options={
            "socket_timeout": 2,
            "socket_connect_timeout": 2,
            # The fleet's key prefix, separator and priority steps: the console's broadcasts,
            # publishes and purges must reach the keys the workers use.
            **settings.broker_transport_options.for_celery(),
        },
        result_backend_transport_options={"socket_timeout": 2, "socket_connect_timeout": 2},
        redis_socket_timeout=2,
        redis_socket_connect_timeout=2,
    )
    return app
