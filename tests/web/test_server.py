"""The WSGI server: newest-first thread wake-up, and every thread still serving under load."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from controlplane.broker.embedded import free_port
from controlplane.web.server import LifoCondition, LifoTaskDispatcher, make_server


def _wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_notify_wakes_the_newest_waiter_and_notify_all_wakes_the_rest() -> None:
    lock = threading.Lock()
    condition = LifoCondition(lock)
    woken: list[str] = []
    waiting: list[str] = []

    def waiter(name: str) -> None:
        with lock:
            waiting.append(name)
            condition.wait()
            woken.append(name)

    threads = []
    for name in ("oldest", "middle", "newest"):
        thread = threading.Thread(target=waiter, args=(name,), daemon=True)
        thread.start()
        threads.append(thread)
        _wait_until(lambda name=name: name in waiting)

    with lock:
        condition.notify()
    _wait_until(lambda: len(woken) == 1)
    assert woken == ["newest"]

    with lock:
        condition.notify_all()
    for thread in threads:
        thread.join(5)
    assert sorted(woken[1:]) == ["middle", "oldest"]


@pytest.fixture
def blocking_server() -> Iterator[tuple[int, threading.Barrier, Any]]:
    """A server whose app waits until `threads` requests are inside it at the same time."""
    threads = 4
    barrier = threading.Barrier(threads, timeout=10)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/together":
            barrier.wait()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    with _serving(app, threads) as (port, server):
        yield port, barrier, server


@contextmanager
def _serving(app: Any, threads: int) -> Iterator[tuple[int, Any]]:
    port = free_port()
    server = make_server(app, "127.0.0.1", port, threads=threads)
    closing = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:  # the loop may select() on the socket that close() just closed
            if not closing.is_set():
                raise

    runner = threading.Thread(target=serve, daemon=True)
    runner.start()
    try:
        yield port, server
    finally:
        closing.set()
        server.close()
        runner.join(5)


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def test_the_server_uses_the_lifo_dispatcher(blocking_server: Any) -> None:
    port, _barrier, server = blocking_server
    assert isinstance(server.task_dispatcher, LifoTaskDispatcher)
    assert [_get(port, "/") for _ in range(20)] == [200] * 20


def test_every_thread_serves_when_requests_arrive_together(blocking_server: Any) -> None:
    """Four requests that each wait for the others only finish if four threads run them."""
    port, barrier, _server = blocking_server
    statuses: list[int] = []
    clients = [
        threading.Thread(target=lambda: statuses.append(_get(port, "/together")))
        for _ in range(barrier.parties)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join(15)
    assert not barrier.broken
    assert statuses == [200] * barrier.parties


def test_shutdown_stops_every_request_thread(blocking_server: Any) -> None:
    port, _barrier, server = blocking_server
    assert _get(port, "/") == 200
    dispatcher = server.task_dispatcher
    assert len(dispatcher.threads) == 4
    dispatcher.shutdown(timeout=5)
    assert dispatcher.threads == set()


def _arrived(clients: int, held: list[str], server: Any) -> bool:
    """The first two requests are inside the app, the others waiting in the queue."""
    queued = len(server.task_dispatcher.queue)
    return len(held) == min(clients, 2) and queued == max(clients - 2, 0)


def test_healthz_answers_while_every_request_thread_is_busy() -> None:
    """Liveness has a thread of its own: with all request threads held (and more requests
    queued behind them), /healthz still answers at once; /readyz is served next, before the
    requests that queued earlier."""
    release = threading.Event()
    order: list[str] = []
    held: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/busy":
            held.append(path)
            release.wait(20)
        order.append(path)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    statuses: list[int] = []
    clients = []
    with _serving(app, threads=2) as (port, server):
        try:
            for path in ("/busy", "/busy", "/queued", "/readyz"):  # 2 threads held, 2 queued
                client = threading.Thread(
                    target=lambda path=path: statuses.append(_get(port, path))
                )
                client.start()
                clients.append(client)
                _wait_until(lambda n=len(clients): _arrived(n, held, server))
            started = time.monotonic()
            assert _get(port, "/healthz") == 200
            assert time.monotonic() - started < 1.0
            assert order == ["/healthz"]
        finally:
            release.set()
            for client in clients:
                client.join(15)
    assert statuses.count(200) == 4
    assert order.index("/readyz") < order.index("/queued")
