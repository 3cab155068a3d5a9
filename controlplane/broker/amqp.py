"""Queue depth and consumers on RabbitMQ, through a passive declare per queue."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from controlplane.broker.base import QueueState
from controlplane.errors import BrokerUnavailable

DELAY_LEVELS = 28  # kombu.transport.native_delayed_delivery: celery_delayed_0 .. 27


class AmqpBroker:
    """Depth and consumer count of RabbitMQ queues through a passive declare.

    RabbitMQ's declare-ok carries ready messages and consumers only, so `unacked` is None here.
    """

    counts_unacked: ClassVar[bool] = False
    counts_consumers: ClassVar[bool] = True

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout
        self._lock = threading.Lock()
        self._connection: Any = None

    def _connect(self) -> Any:
        from kombu import Connection

        if self._connection is None:
            connection = Connection(self.url, connect_timeout=self.timeout)
            connection.ensure_connection(max_retries=1, timeout=self.timeout)
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        if self._connection is not None:
            # It is broken already; we only let go of it.
            with contextlib.suppress(Exception):
                self._connection.release()
            self._connection = None

    def run_id(self) -> str | None:
        """None: a RabbitMQ restart keeps durable queues; it is not detected this way."""
        return None

    def ping(self) -> None:
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=self.timeout) as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout)
        except Exception as exc:
            raise BrokerUnavailable(f"amqp broker did not answer: {exc}") from None

    def depths(self, queues: Iterable[str]) -> dict[str, QueueState]:
        """One passive declare per queue on a kept connection (a queue that is absent is 0)."""
        from amqp.exceptions import NotFound

        result: dict[str, QueueState] = {}
        with self._lock:
            try:
                channel = self._connect().channel()
                try:
                    for name in dict.fromkeys(queues):
                        try:
                            _, ready, consumers = channel.queue_declare(name, passive=True)
                        except NotFound:
                            channel = self._connection.channel()  # the server closed it
                            result[name] = QueueState(name, 0, None, consumers=0)
                            continue
                        result[name] = QueueState(name, int(ready), None, consumers=int(consumers))
                finally:
                    channel.close()
            except Exception as exc:
                self._drop()
                raise BrokerUnavailable(f"amqp broker did not answer: {exc}") from None
        return result

    def delayed(self) -> int | None:
        """ETA tasks in Celery's native delayed delivery queues (celery_delayed_0..27).

        Celery 5.5+ publishes a countdown/ETA task to quorum queues through 28 delay levels, so
        it waits in RabbitMQ, not in a worker (inspect().scheduled() cannot see it). The count
        is the vhost's total: a message's destination is in its routing key, which only
        consuming it would reveal. None when no delay queue exists.
        """
        from amqp.exceptions import NotFound

        total, found = 0, False
        with self._lock:
            try:
                channel = self._connect().channel()
                try:
                    for level in range(DELAY_LEVELS):
                        try:
                            _, ready, _ = channel.queue_declare(f"celery_delayed_{level}",
                                                                passive=True)  # fmt: skip
                        except NotFound:
                            channel = self._connection.channel()
                            continue
                        total, found = total + int(ready), True
                finally:
                    channel.close()
            except Exception as exc:
                self._drop()
                raise BrokerUnavailable(f"amqp broker did not answer: {exc}") from None
        return total if found else None

    def close(self) -> None:
        with self._lock:
            self._drop()
