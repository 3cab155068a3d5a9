"""Test helpers for the fleet view: a minimal worker-event recorder.

The real event ingester (controlplane/events.py) keeps `workers` up to date from worker
events; these tests only need heartbeats in that table, so this records worker-online,
-heartbeat and -offline events the same way with Celery's own EventReceiver.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session, sessionmaker

from controlplane.db import session_scope
from controlplane.models import Worker


class HeartbeatRecorder:
    """Writes worker events into `workers` (SQLite) from a background thread until stopped."""

    def __init__(self, broker_url: str, sessions: sessionmaker[Session]) -> None:
        self.app = Celery(broker=broker_url, set_as_current=False)
        self.sessions = sessions
        self.receiver: Any = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat-recorder", daemon=True)

    def start(self) -> HeartbeatRecorder:
        self.thread.start()
        assert self.ready.wait(10), "event receiver did not start"
        return self

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.should_stop = True
        self.thread.join(10)
        self.app.close()

    def _run(self) -> None:
        with self.app.connection_for_read() as connection:
            handlers = {
                "worker-online": self._record,
                "worker-heartbeat": self._record,
                "worker-offline": self._record,
            }
            self.receiver = self.app.events.Receiver(connection, handlers=handlers)
            self.ready.set()
            self.receiver.capture(limit=None, timeout=None, wakeup=False)

    def _record(self, event: dict[str, Any]) -> None:
        at = datetime.fromtimestamp(float(event["timestamp"]), UTC)
        kind = event["type"]
        values: dict[str, Any] = {
            "hostname": event["hostname"],
            "status": "offline" if kind == "worker-offline" else "online",
            "last_heartbeat": at,
            "freq": float(event.get("freq") or 2.0),
            "active": int(event.get("active") or 0),
            "processed": int(event.get("processed") or 0),
            "pid": event.get("pid"),
            "software": f"{event.get('sw_ident', '')} {event.get('sw_ver', '')}".strip(),
            "loadavg": json.dumps(event.get("loadavg")),
            "updated_at": at,
        }
        if kind == "worker-online":
            values["online_at"] = at
        if kind == "worker-offline":
            values["offline_at"] = at
        statement = insert(Worker).values(**values)
        update = {k: statement.excluded[k] for k in values if k != "hostname"}
        with session_scope(self.sessions) as session:
            session.execute(
                statement.on_conflict_do_update(index_elements=["hostname"], set_=update)
            )
