"""Publish synthetic but well-formed Celery task events straight to the event exchange.

A real worker feeds a monitor only about 1,500 events/s on this machine, so benchmarks and
burst tests publish events the way Celery does (kombu's JSON envelope, base64 body, channel
`/<db>.celeryev/<routing key>` on Redis; the `celeryev` topic exchange on AMQP) from a
separate process, as fast as it can or at a given rate.

The traffic looks like a fleet's, so that no cache in the ingester is flattered by it:
uuid-shaped task ids, 24 task names on 4 queues run by 8 workers, args and results that
differ per task, and event times spread over `--spread-days` (default 3) before now, each
task sent, waiting 0-2 s, then running 5 ms to 10 s. A share of the tasks (`--failures`,
default 5%) fails with a 1-2 KB traceback naming a database URL with a password (which
the ingester must redact). In the stream a task is received 50 tasks after it is sent,
started 50 after that, and ends its runtime later at `--fleet-rate` (default 5,000) tasks a
second: as in production, a long task's end arrives long after its start.

    python bench/firehose.py --url redis://127.0.0.1:6379/0 --tasks 50000 [--rate 20000]
        [--events sent,received,started,succeeded] [--prefix run1] [--failures 0.05]
        [--spread-days 3] [--fleet-rate 5000]

Prints one JSON line: {"published": events, "tasks": n, "seconds": s, "started": t0,
"prefix": p, "anchor": a}; `plan(prefix, index, tasks, anchor, ...)` rebuilds what any task
should look like (tests compare the stored rows with it).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import heapq
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

EVENTS = ("sent", "received", "started", "succeeded")
CLIENT = "bench-client@firehose"
NAME_PREFIX = "shop."  # every synthetic task's name starts so (the bench counts by it)
NAMES = tuple(
    f"{NAME_PREFIX}{area}.{verb}"
    for area in ("orders", "billing", "email", "search", "images", "reports")
    for verb in ("process", "sync", "notify", "rebuild")
)
QUEUES = ("default", "orders", "reports", "slow")
WORKERS = tuple(f"worker{n}@bench-host-{n % 3}" for n in range(8))
EXCEPTION = "OperationalError('could not write order %d: connection to server lost')"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/venv/lib/python3.11/site-packages/celery/app/trace.py", line 477, in '
    "trace_task\n    R = retval = fun(*args, **kwargs)\n"
    '  File "/srv/app/venv/lib/python3.11/site-packages/celery/app/trace.py", line 760, in '
    "__protected_call__\n    return self.run(*args, **kwargs)\n"
    '  File "/srv/app/shop/%s.py", line %d, in run\n    session.commit()\n'
    '  File "/srv/app/venv/lib/python3.11/site-packages/sqlalchemy/orm/session.py", line 1969, '
    "in commit\n    trans.commit(_to_root=True)\n"
    '  File "/srv/app/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 2351, '
    "in _handle_dbapi_exception\n    raise sqlalchemy_exception.with_traceback(exc_info[2]) "
    "from e\n"
    '  File "/srv/app/venv/lib/python3.11/site-packages/psycopg/connection.py", line 728, in '
    "connect\n    raise last_ex.with_traceback(None)\n"
    "sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection to server at "
    '"db.internal" (10.0.3.7), port 5432 failed: server closed the connection unexpectedly\n'
    "(Background on this error at: https://sqlalche.me/e/20/e3q8)\n"
    "[SQL: UPDATE orders SET state=%%(state)s WHERE orders.id = %%(id)s]\n"
    "[parameters: {'state': 'paid', 'id': %d}]\n"
    "while connecting to postgresql://shop:s3cret-%d@db.internal:5432/shop\n"
)
SECRET = "s3cret-"  # in every traceback's URL: the stored traceback must not contain it


def task_id(prefix: str, index: int) -> str:
    """A uuid-shaped id, stable for (prefix, index): random order, like Celery's uuid4."""
    digest = hashlib.md5(f"{prefix}-{index}".encode(), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=digest))


def _mix(index: int) -> int:
    """A well-spread 32-bit hash of the task number (cheap, deterministic)."""
    value = (index * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF
    value ^= value >> 15
    return (value * 2246822519) & 0xFFFFFFFF


@dataclass(frozen=True)
class TaskPlan:
    """What one synthetic task is: the ingester's rows are compared with this."""

    task_id: str
    index: int
    name: str
    queue: str
    worker: str
    sent_at: float
    received_at: float
    started_at: float
    finished_at: float
    runtime: float
    failed: bool

    @property
    def state(self) -> str:
        return "FAILURE" if self.failed else "SUCCESS"


def plan(
    prefix: str, index: int, tasks: int, anchor: float, failures: float, spread_days: float
) -> TaskPlan:
    """Task `index` of `tasks`: sent at a time spread over `spread_days` before `anchor`."""
    mixed = _mix(index)
    span = spread_days * 86400.0
    sent = anchor - span + span * index / max(tasks, 1) if span else anchor
    sent = round(sent + (mixed % 1000) / 1e4, 6)
    received = round(sent + ((mixed >> 10) % 2000) / 1000.0, 6)
    started = round(received + 0.0005, 6)
    runtime = round(0.005 * 2 ** ((mixed >> 21) % 11) * (1 + (mixed % 97) / 100.0), 6)
    failed = failures > 0 and (mixed >> 8) % 10_000 < failures * 10_000
    return TaskPlan(
        task_id=task_id(prefix, index), index=index, name=NAMES[mixed % len(NAMES)],
        queue=QUEUES[(mixed >> 5) % len(QUEUES)], worker=WORKERS[(mixed >> 7) % len(WORKERS)],
        sent_at=sent, received_at=received, started_at=started,
        finished_at=round(started + runtime, 6), runtime=runtime, failed=failed,
    )  # fmt: skip


def event(kind: str, task: TaskPlan) -> dict[str, object]:
    """The body Celery publishes for `kind` ("sent", "received", ...) of this task."""
    index = task.index
    base: dict[str, object] = {
        "hostname": task.worker, "utcoffset": 0, "pid": 4000 + index % 8, "clock": index,
        "uuid": task.task_id, "type": f"task-{kind}",
    }  # fmt: skip
    if kind in ("sent", "received"):
        base.update(
            name=task.name, args=f"[{index}, 'order-{index % 9973}']",
            kwargs=f"{{'priority': 'normal', 'customer': {index % 1000}}}",
            root_id=task.task_id, parent_id=None, retries=0, eta=None, expires=None,
        )  # fmt: skip
    if kind == "sent":
        base.update(hostname=CLIENT, queue=task.queue, exchange="", routing_key=task.queue,
                    timestamp=task.sent_at)  # fmt: skip
    elif kind == "received":
        base["timestamp"] = task.received_at
    elif kind == "started":
        base["timestamp"] = task.started_at
    elif task.failed:
        base.update(
            type="task-failed", timestamp=task.finished_at, exception=EXCEPTION % index,
            traceback=TRACEBACK % (task.name.split(".")[1], 20 + index % 300, index, index),
        )  # fmt: skip
    else:
        base.update(timestamp=task.finished_at, result=f"{{'ok': True, 'order': {index}}}",
                    runtime=task.runtime)  # fmt: skip
    return base


_ENVELOPE = (
    '{"body": "%s", "content-encoding": "utf-8", "content-type": "application/json", '
    '"headers": {"hostname": "%s"}, "properties": {"delivery_mode": 1, "delivery_info": '
    '{"exchange": "celeryev", "routing_key": "%s"}, "priority": 0, "body_encoding": '
    '"base64", "delivery_tag": "%s"}}'
)


def routing_key(body: dict[str, object]) -> str:
    return str(body["type"]).replace("-", ".")


def envelope(body: dict[str, object], routing_key: str) -> bytes:
    """Byte for byte the JSON kombu's Redis transport publishes for one event."""
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    tag = f"{body['uuid']}-{routing_key}"
    return (_ENVELOPE % (encoded, body["hostname"], routing_key, tag)).encode()


def stream(
    prefix: str,
    tasks: int,
    kinds: tuple[str, ...],
    *,
    anchor: float,
    failures: float = 0.05,
    spread_days: float = 3.0,
    fleet_rate: float = 5000.0,
) -> Iterator[dict[str, object]]:
    """Event bodies in a fleet's order: a task is received 50 tasks after it is sent,
    started 50 after that, and finishes its runtime later in a fleet starting `fleet_rate`
    tasks a second (a 0.2 s task ends 1,000 tasks later, a 10 s one 50,000)."""
    heap: list[tuple[int, int, str, TaskPlan]] = []
    sequence = 0
    for index in range(tasks):
        task = plan(prefix, index, tasks, anchor, failures, spread_days)
        started = index + 100
        position = {"sent": index, "received": index + 50, "started": started,
                    "succeeded": started + round(task.runtime * fleet_rate)}  # fmt: skip
        for kind in kinds:
            heapq.heappush(heap, (position[kind], sequence, kind, task))
            sequence += 1
        while heap and heap[0][0] <= index:
            _, _, kind, due = heapq.heappop(heap)
            yield event(kind, due)
    while heap:
        _, _, kind, due = heapq.heappop(heap)
        yield event(kind, due)


def redis_commands(url: str, items: Iterator[dict[str, object]]) -> list[bytes]:
    """Every PUBLISH as RESP bytes, built before the clock starts: publishing is then only
    socket writes, fast enough for any consumer here (and the same for every consumer)."""
    db = int((urlsplit(url).path or "/0").strip("/") or 0)
    commands = []
    for body in items:
        key = routing_key(body)
        channel = f"/{db}.celeryev/{key}".encode()
        payload = envelope(body, key)
        commands.append(b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                        % (len(channel), channel, len(payload), payload))  # fmt: skip
    return commands


def publish_redis(url: str, commands: list[bytes], rate: float | None) -> int:
    """PUBLISH over a raw socket in large writes: redis-py's pipeline caps one process at
    about 25,000 events/s here, this reaches the 50,000/s a burst needs."""
    import socket

    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    sock.setblocking(True)
    count, started, replies = 0, time.monotonic(), 0
    for start in range(0, len(commands), 500):
        chunk = commands[start : start + 500]
        sock.sendall(b"".join(chunk))
        count += len(chunk)
        replies += _drain_replies(sock, wait=False)
        if rate:
            ahead = count / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
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


def publish_amqp(url: str, items: Iterator[dict[str, object]], rate: float | None) -> int:
    from kombu import Connection, Exchange, Producer

    exchange = Exchange("celeryev", type="topic")
    count, started = 0, time.monotonic()
    with Connection(url) as connection:
        producer = Producer(connection.channel(), exchange=exchange, serializer="json")
        exchange.declare(channel=producer.channel)
        for body in items:
            producer.publish(body, routing_key=routing_key(body),
                             headers={"hostname": body["hostname"]},
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
    parser.add_argument("--failures", type=float, default=0.05, help="share of tasks failing")
    parser.add_argument("--spread-days", type=float, default=3.0, help="event times span")
    parser.add_argument(
        "--fleet-rate",
        type=float,
        default=5000.0,
        help="tasks/s of the fleet the stream imitates (sets when tasks end)",
    )
    parser.add_argument("--anchor", type=float, default=None, help="newest sent time (now)")
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.events.split(",") if k)
    anchor = args.anchor if args.anchor is not None else round(time.time(), 3)
    items = stream(args.prefix, args.tasks, kinds, anchor=anchor, failures=args.failures,
                   spread_days=args.spread_days, fleet_rate=args.fleet_rate)  # fmt: skip
    if args.url.startswith(("amqp", "pyamqp")):
        started = time.time()
        count = publish_amqp(args.url, items, args.rate)
    else:
        commands = redis_commands(args.url, items)
        started = time.time()
        count = publish_redis(args.url, commands, args.rate)
    seconds = time.time() - started
    print(json.dumps({"published": count, "tasks": args.tasks, "seconds": round(seconds, 3),
                      "started": started, "prefix": args.prefix,
                      "anchor": anchor}))  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
