"""The console's own pidbox node: answers workers that ask, before consuming, what they must know.

A worker whose app installs `controlplane.worker_hook` broadcasts one question at start-up,
addressed by pattern to `controlplane@*` (so real workers ignore it): which of its queues are
paused, and which runtime limits to run with. It applies both before its consumer starts.
This node answers from the database. It ignores every other broadcast (ping, inspect): it must
never look like a worker to the console's inspection.

It runs in the processes that ingest events (`up`, `events`), in a thread with its own broker
connection, reconnecting with a capped backoff. Several nodes may answer; the worker takes the
first reply.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from controlplane.control.queue_pause import paused_for_worker
from controlplane.control.revocations import revocations_for_worker
from controlplane.control.task_limits import limits_for_worker
from controlplane.services import Services, process_identity
from controlplane.worker_hook import COMMAND, NODE_PREFIX

log = logging.getLogger(__name__)

MAX_BACKOFF = 10.0


def node_name() -> str:
    return f"{NODE_PREFIX}{process_identity()}"


class WorkerMailbox:
    """A thread answering starting workers (worker_hook.COMMAND) until stop()."""

    def __init__(self, services: Services, hostname: str | None = None) -> None:
        self.services = services
        self.hostname = hostname or node_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()  # set once listening (tests wait for it)

    def start(self) -> WorkerMailbox:
        self._thread = threading.Thread(target=self._run, name="worker-mailbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def answer(self, _state: Any, hostname: str = "", queues: Any = None, **_: Any) -> Any:
        if not isinstance(queues, dict) or not isinstance(hostname, str) or not hostname:
            return {"error": "expected hostname and queues"}
        try:
            return {
                "paused": paused_for_worker(self.services, hostname, queues),
                "limits": limits_for_worker(self.services),
                "revoked": revocations_for_worker(self.services),
            }
        except Exception as exc:  # the worker then starts as configured: say why in its log
            log.warning("could not answer %s as it starts: %s", hostname, exc)
            return {"error": f"controlplane could not read its state: {type(exc).__name__}"}

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self._listen()
                delay = 0.5
            except Exception as exc:
                self.ready.clear()
                log.warning("worker mailbox: %s; listening again in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(MAX_BACKOFF, delay * 2)

    def _listen(self) -> None:
        celery = self.services.celery
        with celery.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1)
            mailbox = celery.control.mailbox(connection)
            node = mailbox.Node(self.hostname, handlers={COMMAND: self.answer})
            node.channel = connection.default_channel

            def on_message(body: Any, message: Any) -> None:
                # Only our command, only when addressed by pattern or name: never a ping.
                if isinstance(body, dict) and body.get("method") == COMMAND:
                    node.handle_message(body, message)

            consumer = node.listen(callback=on_message)
            self.ready.set()
            try:
                while not self._stop.is_set():
                    try:
                        connection.drain_events(timeout=1.0)
                    except TimeoutError:
                        continue
            finally:
                self.ready.clear()
                consumer.cancel()
