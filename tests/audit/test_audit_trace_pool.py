"""Tracing endpoints in forked workers (trace_pool.py) gives the report one process gives.

The pool forks only a process with one thread; pytest's may have others (a test's server
left running), so the checks that need workers run in a fresh interpreter (``_fresh``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from controlplane.migrations_audit import trace_pool
from controlplane.migrations_audit.config import AuditConfig
from controlplane.migrations_audit.engine import _analyse
from controlplane.migrations_audit.report import INLINE, Endpoint
from controlplane.migrations_audit.report_codec import encode
from controlplane.migrations_audit.scan import discover, scan
from controlplane.migrations_audit.source_lines import SourceLines

TASKS = """
from celery import shared_task

@shared_task
def work(n):
    return n
"""


def _feature(n: int) -> str:
    """One module of routes whose endpoints reach a queue, a thread, heavy work, a helper of
    another module, or nothing."""
    return textwrap.dedent(
        f"""
        import threading
        import requests
        from flask import Blueprint
        from app.tasks import work
        from app.helpers import send_later

        bp{n} = Blueprint("f{n}", __name__)

        @bp{n}.post("/f{n}/queue")
        def queue_{n}():
            work.delay({n})
            return "ok"

        @bp{n}.post("/f{n}/thread")
        def thread_{n}():
            threading.Thread(target=print).start()
            return "ok"

        @bp{n}.get("/f{n}/fetch")
        def fetch_{n}():
            return requests.get("https://example.com/{n}").text

        @bp{n}.post("/f{n}/helper")
        def helper_{n}():
            return send_later({n})

        @bp{n}.get("/f{n}/plain")
        def plain_{n}():
            return "ok"
        """
    )


HELPERS = """
from app.tasks import work

def send_later(n):
    return work.apply_async((n,))
"""


def write_project(root: Path) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "tasks.py").write_text(TASKS)
    (root / "app" / "helpers.py").write_text(HELPERS)
    for n in range(12):
        (root / "app" / f"feature_{n}.py").write_text(_feature(n))
    return root


def _fresh(check: str, *args: str) -> None:
    """Run ``check(*args)`` of this module in a new interpreter (one thread: forks)."""
    code = f"import sys; from {__name__} import {check}; {check}(*sys.argv[1:])"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _analysed(root: Path, jobs: int) -> tuple[str, dict[str, dict[int, str]]]:
    config = AuditConfig()
    scanned = scan(root, discover(root, config.exclude))
    report, lines, _ = _analyse(root, config, scanned, jobs)
    return json.dumps(encode(report), sort_keys=True), lines.quoted


def check_forked_workers_give_the_report_of_one_process(root: str) -> None:
    project = write_project(Path(root))
    serial, serial_quoted = _analysed(project, 1)
    trace_pool.PARALLEL_MIN_ENDPOINTS = 1
    assert trace_pool.can_fork()
    parallel, parallel_quoted = _analysed(project, 2)
    statuses = {e["handler"]: e["status"] for e in json.loads(serial)["endpoints"]}
    assert len(statuses) == 60
    assert {statuses["queue_3"], statuses["helper_7"]} == {"offloaded"}
    assert statuses["thread_5"] == "inprocess_background"
    assert statuses["fetch_0"] == statuses["plain_11"] == "inline"
    assert parallel == serial
    # the run cache checks every quoted line: the workers' quotes must come back
    assert parallel_quoted == serial_quoted and serial_quoted


def test_forked_workers_give_the_report_and_quoted_lines_of_one_process(tmp_path):
    _fresh("check_forked_workers_give_the_report_of_one_process", str(tmp_path))


def _pid_endpoint(item: int) -> Endpoint:
    return Endpoint(f"f{item}.py", item, "h", "flask", ("GET",), "/", INLINE, False,
                    reason=str(os.getpid()))  # fmt: skip


def _slow_pid_endpoint(item: int) -> Endpoint:
    # long enough that one worker cannot take every slice before the other has started
    time.sleep(0.01)
    return _pid_endpoint(item)


def check_slices_are_traced_in_other_processes_in_order() -> None:
    found = trace_pool.trace_all(list(range(50)), _slow_pid_endpoint, SourceLines(Path(".")), 2, 1)
    assert [e.line for e in found] == list(range(50))
    pids = {e.reason for e in found}
    assert str(os.getpid()) not in pids and len(pids) == 2


def test_slices_are_traced_in_other_processes_and_come_back_in_order():
    _fresh("check_slices_are_traced_in_other_processes_in_order")


def _dies_in_a_worker(item: int) -> Endpoint:
    if item == 7 and os.getpid() != _PARENT[0]:
        os._exit(3)
    return _pid_endpoint(item)


_PARENT = [0]


def check_a_slice_whose_worker_dies_is_traced_here() -> None:
    _PARENT[0] = os.getpid()
    found = trace_pool.trace_all(list(range(20)), _dies_in_a_worker, SourceLines(Path(".")), 2, 1)
    assert [e.line for e in found] == list(range(20))
    assert any(e.reason == str(os.getpid()) for e in found)
    assert any(e.reason != str(os.getpid()) for e in found)


def test_a_slice_whose_worker_dies_is_traced_here():
    _fresh("check_a_slice_whose_worker_dies_is_traced_here")


def test_a_process_with_other_threads_traces_alone():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        found = trace_pool.trace_all(list(range(20)), _pid_endpoint, SourceLines(Path(".")), 2, 1)
    finally:
        stop.set()
        other.join()
    assert {e.reason for e in found} == {str(os.getpid())}
