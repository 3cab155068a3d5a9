"""One ingester per SQLite file: an exclusive lock on a file beside the database.

SQLite has one writer at a time, so a second ingester would only fight over the lock and
slow both down. `flock` is released by the kernel when the process dies, so a crashed
ingester never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from controlplane.errors import IngesterAlreadyRunning


class SqliteIngestLock:
    def __init__(self, database_url: str) -> None:
        database = make_url(database_url).database
        self.path = (
            Path(f"{database}.ingester.lock") if database and database != ":memory:" else None
        )
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.path is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise IngesterAlreadyRunning(
                f"another event ingester (pid {holder}) is already writing to this SQLite "
                f"database (lock file {self.path}); SQLite allows one ingester. Stop it, or "
                "use PostgreSQL to run two."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
