"""What reached a private redis-server while a test ran: every command, seen through MONITOR.

The operator-safety tests prove an effect ("nothing was published", "the key survived"), not an
error message: a refused action must leave no LPUSH of a task and no broadcast behind.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import redis

_ARGUMENT = re.compile(r'"((?:[^"\\]|\\.)*)"')
# Remote-control commands that only ask (the console's registered() and conf() look-ups).
READ_ONLY = frozenset({"ping", "stats", "registered", "active_queues", "active", "reserved",
                       "scheduled", "conf", "revoked", "query_task", "report"})  # fmt: skip


@dataclass
class BrokerWatch:
    """Records the commands a Redis server executes between `with` and its end."""

    url: str
    commands: list[list[str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _ready: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> BrokerWatch:
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("MONITOR did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop recording once every command sent so far has been seen."""
        if self._thread is None:
            return
        marker = f"broker-watch-stop-{id(self)}-{time.monotonic_ns()}"
        self._stop.set()
        client = redis.Redis.from_url(self.url)
        client.echo(marker)  # the listener stops when it sees this, so nothing earlier is lost
        client.close()
        self._thread.join(10)
        self._thread = None

    def _listen(self) -> None:
        client = redis.Redis.from_url(self.url)
        with client.monitor() as monitor:
            self._ready.set()
            while True:
                raw = monitor.connection.read_response()
                if isinstance(raw, bytes):
                    raw = raw.decode("utf-8", "replace")
                if not isinstance(raw, str) or "] " not in raw:
                    continue
                args = [a.replace('\\"', '"') for a in _ARGUMENT.findall(raw.split("] ", 1)[1])]
                if not args:
                    continue
                if self._stop.is_set() and args[0].upper() == "ECHO":
                    break
                self.commands.append(args)
        client.close()

    def pushes(self) -> list[str]:
        """Keys a message was pushed onto (kombu publishes a task with LPUSH), replies to the
        console's own inspect questions left out."""
        return [
            c[1]
            for c in self.commands
            if c[0].upper() in ("LPUSH", "RPUSH") and len(c) > 1
            and not c[1].endswith("reply.celery.pidbox")
        ]  # fmt: skip

    def questions(self) -> list[str]:
        """Remote-control questions asked (registered, conf, ping...)."""
        return [
            method
            for c in self.commands
            if c[0].upper() == "PUBLISH" and len(c) > 2 and "pidbox" in c[1]
            and (method := _method_of(c[2])) in READ_ONLY
        ]  # fmt: skip

    def broadcasts(self) -> list[str]:
        """Remote-control commands that change a worker (shutdown, add_consumer, pool_grow...)
        published to the workers' mailboxes; questions (registered, conf) left out."""
        methods = []
        for c in self.commands:
            if c[0].upper() == "PUBLISH" and len(c) > 2 and "pidbox" in c[1]:
                method = _method_of(c[2])
                if method not in READ_ONLY:
                    methods.append(method)
        return methods

    def deleted(self) -> list[str]:
        """Keys deleted (a purge deletes a queue's lists), kombu's own housekeeping left out:
        the restore mutex and the mailbox/reply lists it clears after each broadcast."""
        return [
            key
            for c in self.commands
            if c[0].upper() in ("DEL", "UNLINK")
            for key in c[1:]
            if key != "unacked_mutex" and ".pidbox" not in key
        ]


def _method_of(payload: str) -> str:
    """The remote-control method in a kombu message published on Redis (base64 JSON body)."""
    try:
        message = json.loads(payload.encode("latin-1").decode("unicode_escape"))
        body = json.loads(base64.b64decode(message["body"]))
        return str(body.get("method"))
    except (ValueError, KeyError, TypeError, UnicodeError):
        return f"unreadable: {payload[:80]}"
