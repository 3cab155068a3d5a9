"""Receive Celery events from RabbitMQ through Celery's own EventReceiver, undecoded.

On AMQP, events are routed by the `celeryev` topic exchange into a queue of the monitor's
own. Celery's default monitor queue is auto-deleted with a 5 s message TTL, so a restart or
a slow consumer loses events; ours has a stable name per install (the setting EVENT_QUEUE,
by default named after the install's database, so that two installs on one vhost each get
every event instead of splitting them) and outlives a restart by
`QUEUE_EXPIRES`, with messages kept up to `MESSAGE_TTL`, so a short outage of the ingester
loses nothing. Messages are taken raw (`on_message`), so kombu never deserialises them:
`decode.py` accepts JSON only.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery
from celery.events.receiver import EventReceiver
from kombu import Queue

from controlplane.events.buffer import AmqpBody, Connected, Disconnected, RawBuffer

log = logging.getLogger(__name__)
MESSAGE_TTL = 300.0  # seconds an event may wait in the queue for us
QUEUE_EXPIRES = 3600.0  # the queue goes away an hour after the last ingester left
PREFETCH = 2000


class _RawReceiver(EventReceiver):
    def __init__(self, app: Celery, source: AmqpEventSource, queue_name: str) -> None:
        self.source = source
        connection = app.connection_for_read()
        super().__init__(
            connection,
            app=app,
            queue_ttl=MESSAGE_TTL,
            queue_expires=QUEUE_EXPIRES,
            queue_durable=True,
            queue_exclusive=False,
        )
        # Celery names it `<prefix>.<node id>`; ours is the whole name from the settings.
        bound: Queue = self.queue  # type: ignore[has-type]
        self.queue = Queue(
            queue_name, exchange=bound.exchange, routing_key=bound.routing_key,
            auto_delete=False, durable=True, exclusive=False,
            message_ttl=MESSAGE_TTL, expires=QUEUE_EXPIRES,
        )  # fmt: skip
        self.connect_max_retries = 1

    def get_consumers(self, consumer: Any, channel: Any) -> list[Any]:
        channel.basic_qos(0, PREFETCH, False)
        return [consumer(queues=[self.queue], on_message=self._on_raw, no_ack=True)]

    def _on_raw(self, message: Any) -> None:
        body = message.body
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        headers = message.headers or {}
        item = AmqpBody(bytes(body), message.content_type, headers.get("compression"))
        self.source.buffer.put(item, len(body) + 64)

    def on_consume_ready(
        self, connection: Any, channel: Any, consumers: Any, **kwargs: Any
    ) -> None:
        _read_ahead(connection)
        self.source.buffer.put_marker(Connected(time.time(), self.source.name))
        try:
            self.wakeup_workers(channel=channel)
        except Exception:
            log.debug("could not wake up workers", exc_info=True)


def _read_ahead(connection: Any) -> None:
    """Let py-amqp read the socket in 64 kB slices instead of frame piece by piece.

    Its TCP transport asks `recv` for exactly the bytes of the next frame part (three calls
    per event: about 200 µs each event here) but keeps whatever extra `recv` returns in its
    read buffer, so a larger read is safe and cuts the calls by two orders of magnitude.
    """
    transport: Any = getattr(getattr(connection, "connection", None), "transport", None)
    sock = getattr(transport, "sock", None)
    if type(transport).__name__ != "TCPTransport" or sock is None:
        return  # TLS or another transport: leave it alone
    recv = sock.recv

    def quick_recv(size: int) -> bytes:
        return recv(max(size, 65536))

    transport._quick_recv = quick_recv


class AmqpEventSource:
    """A thread consuming the event queue and feeding AmqpBody items into a RawBuffer."""

    name = "amqp"
    cpu_s = 0.0  # CPU time of the receiving thread so far (time.thread_time)

    def __init__(
        self,
        broker_url: str,
        buffer: RawBuffer,
        queue_name: str,
        max_backoff: float = 5.0,
    ) -> None:
        self.buffer = buffer
        self.max_backoff = max_backoff
        self.app = Celery("controlplane-events", broker=broker_url, set_as_current=False)
        self.app.conf.broker_connection_timeout = 4
        self._receiver = _RawReceiver(self.app, self, queue_name)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="events-amqp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._receiver.should_stop = True
        self._thread.join(10)
        self.app.close()

    def _run(self) -> None:
        try:
            self._receive()
        finally:
            self.cpu_s = time.thread_time()

    def _receive(self) -> None:
        receiver = self._receiver
        errors = receiver.connection.connection_errors + receiver.connection.channel_errors
        backoff = 0.0
        while not self._stop.is_set():
            started = time.time()
            try:
                for _ in receiver.consume(limit=None, safety_interval=0.5):
                    self.cpu_s = time.thread_time()
                    if self._stop.is_set():
                        break
                if self._stop.is_set():
                    break
                reason = "consumer ended"
            except errors as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.exception("AMQP event receiver failed")
            if self._stop.is_set():
                break
            self.buffer.put_marker(Disconnected(time.time(), self.name, reason))
            log.warning("event consumer lost RabbitMQ (%s); reconnecting", reason)
            backoff = (
                0.0 if time.time() - started > 10 else min(self.max_backoff, max(0.2, backoff * 2))
            )
            self._stop.wait(backoff)
