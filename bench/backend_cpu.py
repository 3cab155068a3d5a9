"""CPU time of the PostgreSQL backends serving a bench's process, found by application_name.

Read from the server's processes (psutil), so only for a server on this machine; a backend
that is gone or on another host counts nothing.
"""

from __future__ import annotations

from typing import Any

import psutil
from sqlalchemy import text


class BackendCpu:
    """CPU of the backends whose application_name is `application`, between begin and end."""

    def __init__(self, engine: Any, application: str) -> None:
        self.engine = engine
        self.application = application
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def _sample(self) -> dict[int, float]:
        query = text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
        with self.engine.connect() as connection:
            pids = connection.execute(query, {"name": self.application}).scalars()
            found = {}
            for pid in [int(pid) for pid in pids]:
                try:
                    times = psutil.Process(pid).cpu_times()
                except psutil.Error:  # another host, or gone
                    continue
                found[pid] = times.user + times.system
        return found

    def begin(self) -> None:
        self.start = self._sample()

    def end(self) -> float:
        """CPU seconds since `begin` (backends opened meanwhile count from zero)."""
        self.last = self._sample()
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())
