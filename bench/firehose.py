"""Publish synthetic but well-formed Celery task events straight to the event exchange.

A real worker feeds a monitor only about 1,500 events/s on this machine, so benchmarks and
burst tests publish events the way Celery does (kombu's JSON envelope, base64 body, channel
`/<db>.celeryev/<routing key>` on Redis; the `celeryev` topic exchange on AMQP) from a
separate process, as fast as it can or at a given rate.

    python bench/firehose.py --url redis://127.0.0.1:6379/0 --tasks 50000 [--rate 20000]
        [--events sent,received,started,succeeded] [--prefix run1]

Prints one JSON line: {"published": events, "tasks": n, "seconds": s, "started": t0}.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

EVENTS = ("sent", "received", "started", "succeeded")
HOST = "bench-worker@firehose"
CLIENT = "bench-client@firehose"


def task_id(prefix: str, index: int) -> str:
    return f"{prefix}-{index:09d}"


def event(kind: str, tid: str, index: int, now: float) -> dict[str, object]:
    base: dict[str, object] = {
        "hostname": HOST, "utcoffset": 0, "pid": 4242, "clock": index,
        "uuid": tid, "timestamp": now, "type": f"task-{kind}",
    }  # fmt: skip
    if kind in ("sent", "received"):
        base.update(
            name="bench.tasks.process_order", args=f"[{index}, 'order']",
            kwargs="{'priority': 'normal', 'retry': False}", root_id=tid, parent_id=None,
            retries=0, eta=None, expires=None,
        )  # fmt: skip
    if kind == "sent":
        base.update(hostname=CLIENT, queue="default", exchange="", routing_key="default")
    elif kind == "succeeded":
        base.update(result="{'ok': True}", runtime=0.0123)
    return base


_ENVELOPE = (
    '{"body": "%s", "content-encoding": "utf-8", "content-type": "application/json", '
    '"headers": {"hostname": "%s"}, "properties": {"delivery_mode": 1, "delivery_info": '
    '{"exchange": "celeryev", "routing_key": "%s"}, "priority": 0, "body_encoding": '
    '"base64", "delivery_tag": "%s"}}'
)


def envelope(body: dict[str, object], routing_key: str) -> bytes:
    """Byte for byte the JSON kombu's Redis transport publishes for one event."""
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    tag = f"{body['uuid']}-{routing_key}"
    return (_ENVELOPE % (encoded, body["hostname"], routing_key, tag)).encode()


def stream(prefix: str, tasks: int, kinds: tuple[str, ...]) -> Iterator[tuple[str, dict]]:
    """Events in a realistic interleaving: each task's events spread over later tasks."""
    lag = 50  # task i is received when task i+50 is sent, and so on
    total = tasks + lag * len(kinds)
    for step in range(total):
        for position, kind in enumerate(kinds):
            index = step - position * lag
            if 0 <= index < tasks:
                yield kind, event(kind, task_id(prefix, index), index, time.time())


def publish_redis(url: str, items: Iterator[tuple[str, dict]], rate: float | None) -> int:
    """PUBLISH over a raw socket in large writes: redis-py's pipeline caps one process at
    about 25,000 events/s here, this reaches the 50,000/s a burst needs."""
    import socket

    parts = urlsplit(url)
    db = int((parts.path or "/0").strip("/") or 0)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    sock.setblocking(True)
    count, started, chunk = 0, time.monotonic(), []
    replies = 0
    for kind, body in items:
        routing_key = f"task.{kind}"
        channel = f"/{db}.celeryev/{routing_key}".encode()
        payload = envelope(body, routing_key)
        chunk.append(b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                     % (len(channel), channel, len(payload), payload))  # fmt: skip
        count += 1
        if len(chunk) == 500:
            sock.sendall(b"".join(chunk))
            chunk = []
            replies += _drain_replies(sock, wait=False)
            if rate:
                ahead = count / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    if chunk:
        sock.sendall(b"".join(chunk))
    while replies < count:  # every PUBLISH answered: all of them reached the server
        replies += _drain_replies(sock, wait=True)
    sock.close()
    return count


def _drain_replies(sock: object, wait: bool) -> int:
    import socket

    assert isinstance(sock, socket.socket)
    sock.setblocking(wait)
    try:
        data = sock.recv(1 << 20)
    except BlockingIOError:
        return 0
    finally:
        sock.setblocking(True)
    return data.count(b"\r\n")


def publish_amqp(url: str, items: Iterator[tuple[str, dict]], rate: float | None) -> int:
    from kombu import Connection, Exchange, Producer

    exchange = Exchange("celeryev", type="topic")
    count, started = 0, time.monotonic()
    with Connection(url) as connection:
        producer = Producer(connection.channel(), exchange=exchange, serializer="json")
        exchange.declare(channel=producer.channel)
        for kind, body in items:
            producer.publish(body, routing_key=f"task.{kind}", headers={"hostname": HOST},
                             delivery_mode=1, declare=[])  # fmt: skip
            count += 1
            if rate and count % 500 == 0:
                ahead = count / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=None, help="events/s (default: max)")
    parser.add_argument("--events", default=",".join(EVENTS))
    parser.add_argument("--prefix", default=uuid.uuid4().hex[:8])
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.events.split(",") if k)
    items = stream(args.prefix, args.tasks, kinds)
    started = time.time()
    publish = publish_amqp if args.url.startswith(("amqp", "pyamqp")) else publish_redis
    count = publish(args.url, items, args.rate)
    seconds = time.time() - started
    print(json.dumps({"published": count, "tasks": args.tasks, "seconds": round(seconds, 3),
                      "started": started, "prefix": args.prefix}))  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
