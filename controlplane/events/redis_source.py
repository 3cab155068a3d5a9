"""Receive Celery events from Redis: a raw pub/sub subscription drained as fast as it fills.

Celery's Redis transport publishes events on the fanout exchange `celeryev` as pub/sub
channels named `<fanout prefix><exchange>/<routing key>`: kombu's defaults (`fanout_prefix`
and `fanout_patterns` both on) give `/0.celeryev/task.succeeded` for database 0, so we
PSUBSCRIBE to `/{db}.celeryev/*`. Redis keeps nothing for a subscriber: whatever is not read
before the client output buffer passes `client-output-buffer-limit pubsub` is lost with the
connection. So this thread does nothing but move bytes from the socket into the RawBuffer;
parsing and decoding happen in the processor thread.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from urllib.parse import unquote, urlsplit

from controlplane.events.buffer import Connected, Disconnected, RawBuffer
from controlplane.events.resp import RespError, RespReader

log = logging.getLogger(__name__)
READ_SIZE = 1 << 20
_UNSUBSCRIBED = b"\r\npunsubscribe\r\n"  # in the reply to PUNSUBSCRIBE (never in an event)
CONNECT_TIMEOUT = 5.0


def event_channel_pattern(broker_url: str, exchange: str = "celeryev") -> bytes:
    """The PSUBSCRIBE pattern for Celery's event exchange on this Redis database."""
    parts = urlsplit(broker_url)
    db = (parts.path or "/0").strip("/") or "0"
    return f"/{int(db)}.{exchange}/*".encode()


def _command(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class RedisEventSource:
    """A thread that keeps a PSUBSCRIBE open and feeds raw RESP chunks into a RawBuffer."""

    name = "redis"
    _handshake_rest = b""
    cpu_s = 0.0  # CPU time of the receiving thread so far (time.thread_time)

    def __init__(self, broker_url: str, buffer: RawBuffer, max_backoff: float = 5.0) -> None:
        self.url = broker_url
        self.buffer = buffer
        self.pattern = event_channel_pattern(broker_url)
        self.max_backoff = max_backoff
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._drained = threading.Event()
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name="events-redis", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, drain_timeout: float = 5.0) -> None:
        """Stop receiving, but first everything published before now: Redis answers the
        PUNSUBSCRIBE after every message it queued for us before it, so reading up to that
        answer leaves nothing behind in its output buffer or in the socket."""
        sock = self._sock
        if sock is not None:
            self._draining.set()
            try:
                sock.sendall(_command(b"PUNSUBSCRIBE", self.pattern))
                self._drained.wait(drain_timeout)
            except OSError:
                pass
        self._stop.set()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(10)

    def _connect(self) -> socket.socket:
        parts = urlsplit(self.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 6379
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        if parts.scheme == "rediss":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=host)
        commands = []
        if parts.password is not None:
            auth = [unquote(parts.password).encode()]
            if parts.username:
                auth.insert(0, unquote(parts.username).encode())
            commands.append(_command(b"AUTH", *auth))
        commands.append(_command(b"CLIENT", b"SETNAME", b"controlplane-events"))
        commands.append(_command(b"PSUBSCRIBE", self.pattern))
        sock.sendall(b"".join(commands))
        self._handshake_rest = _read_replies(sock, len(commands))
        sock.settimeout(None)
        return sock

    def _run(self) -> None:
        try:
            self._receive()
        finally:
            self.cpu_s = time.thread_time()

    def _receive(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            connected_at = time.time()
            try:
                sock = self._sock = self._connect()
                self.buffer.put_marker(Connected(time.time(), self.name))
                if self._handshake_rest:
                    self.buffer.put(self._handshake_rest, len(self._handshake_rest))
                self._drain(sock)
                if self._drained.is_set():
                    break
                reason = "connection closed by the server"
            except (OSError, RespError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                if self._sock is not None:
                    with contextlib.suppress(OSError):
                        self._sock.close()
                    self._sock = None
            if self._stop.is_set():
                break
            self.buffer.put_marker(Disconnected(time.time(), self.name, reason))
            log.warning("event subscription to Redis lost (%s); reconnecting", reason)
            # reconnect at once after a connection that lived; back off while it keeps failing
            backoff = (
                0.0
                if time.time() - connected_at > 10
                else min(self.max_backoff, max(0.1, backoff * 2))
            )
            self._stop.wait(backoff)

    def _drain(self, sock: socket.socket) -> None:
        recv = sock.recv
        put = self.buffer.put
        tail = b""
        while not self._stop.is_set():
            chunk = recv(READ_SIZE)
            if not chunk:
                return
            put(chunk, len(chunk), chunk.count(b"pmessage"))
            self.cpu_s = time.thread_time()
            if self._draining.is_set():
                if _UNSUBSCRIBED in tail + chunk[: len(_UNSUBSCRIBED)] or _UNSUBSCRIBED in chunk:
                    self._drained.set()
                    return
                tail = chunk[-len(_UNSUBSCRIBED) :]


def _read_replies(sock: socket.socket, count: int) -> bytes:
    """Read the replies to our `count` set-up commands; raise on an error reply.

    Returns the bytes received after them (the first messages), which belong to the stream.
    """
    data = b""
    reader = RespReader()
    while True:
        pos, replies = 0, 0
        while replies < count:
            _reply, end = reader._generic(data, pos)  # raises RespError on -ERR
            if end < 0:
                break
            pos, replies = end, replies + 1
        if replies == count:
            return data[pos:]
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed during the handshake")
        data += chunk
