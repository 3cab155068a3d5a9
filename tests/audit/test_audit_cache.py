"""The facts cache and the parallel parser give the same report as a plain run."""

from __future__ import annotations

import json
import threading

from controlplane.migrations_audit import AuditConfig, audit, scan
from controlplane.migrations_audit.cache import FactsCache, cache_key
from controlplane.migrations_audit.formatters import get_formatter
from controlplane.migrations_audit.scan import PARALLEL_MIN_FILES

ROUTES = """
    import requests
    from fastapi import APIRouter
    from tasks import crunch

    router = APIRouter(prefix="/m{n}")

    @router.post("/go")
    def go_{n}():
        return crunch.delay({n})

    @router.get("/fetch")
    def fetch_{n}():
        return requests.get("https://example.com/{n}")
"""
TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(n):
        return n
"""


def many_files(count: int) -> dict[str, str]:
    files = {"tasks.py": TASKS}
    for n in range(count):
        files[f"pkg/m{n}.py"] = ROUTES.replace("{n}", str(n))
    files["pkg/broken.py"] = "def nope(:\n"
    return files


def as_json(report) -> dict:
    return json.loads(get_formatter("json")(report))


def test_parallel_cached_and_plain_runs_agree(tree, tmp_path):
    root = tree(many_files(PARALLEL_MIN_FILES + 6))
    plain = as_json(audit(root, AuditConfig(), jobs=1))
    cache_dir = tmp_path / "cache"
    cold = as_json(audit(root, AuditConfig(), jobs=2, cache_dir=cache_dir))
    warm = as_json(audit(root, AuditConfig(), jobs=2, cache_dir=cache_dir))
    assert plain == cold == warm
    assert plain["summary"] == {
        "endpoints": 140,
        "offloaded": 70,
        "inline": 70,
        "inprocess_background": 0,
        "unresolved": 0,
        "resolved": 140,
        "coverage_text": (
            "50.0% of the 140 endpoints with work to move are offloaded; 140 resolved, 0 unresolved"
        ),
        "unrecognized_registrations": 0,
        "coverage": 50.0,
    }
    assert plain["skipped"] == [
        {"file": "pkg/broken.py", "reason": "syntax error: invalid syntax (line 1)"}
    ]


def test_a_changed_file_misses_the_cache_and_others_hit_it(tree, tmp_path):
    root = tree(many_files(3))
    cache = FactsCache(tmp_path / "cache")
    audit(root, AuditConfig(), jobs=1, cache_dir=tmp_path / "cache")
    data = (root / "pkg/m1.py").read_bytes()
    assert cache.get(cache_key("pkg/m1.py", data), "pkg/m1.py") is not None
    changed = data.replace(b"crunch.delay(1)", b"crunch(1)")
    assert cache.get(cache_key("pkg/m1.py", changed), "pkg/m1.py") is None
    (root / "pkg/m1.py").write_bytes(changed)
    report = audit(root, AuditConfig(), jobs=1, cache_dir=tmp_path / "cache")
    statuses = {e.handler: e.status for e in report.endpoints}
    assert statuses["go_1"] == "inline" and statuses["go_2"] == "offloaded"


def test_a_corrupt_cache_entry_is_a_miss_not_a_crash(tree, tmp_path):
    root = tree(many_files(2))
    cache_dir = tmp_path / "cache"
    first = as_json(audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir))
    entries = sorted(cache_dir.rglob("*.json"))
    assert entries
    entries[0].write_text("{not json")
    entries[1].write_text(json.dumps({"relpath": "elsewhere.py"}))
    entries[2].write_bytes(b"\x00\xff")
    assert as_json(audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)) == first
    assert as_json(audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)) == first


def test_an_unwritable_cache_only_costs_speed(tree, tmp_path):
    root = tree(many_files(2))
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    report = audit(root, AuditConfig(), jobs=1, cache_dir=blocker)
    assert report.summary.endpoints == 4


def test_a_threaded_host_process_parses_in_spawned_workers(tree):
    root = tree(many_files(PARALLEL_MIN_FILES + 2))
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert scan._context().get_start_method() == "spawn"
        report = audit(root, AuditConfig(), jobs=2)
    finally:
        stop.set()
        worker.join()
    assert report.summary.endpoints == 2 * (PARALLEL_MIN_FILES + 2)
    if threading.active_count() == 1:  # other tests of the run may leave threads behind
        assert scan._context().get_start_method() == "fork"


def test_a_file_name_that_is_not_utf8_is_skipped_with_the_reason_not_a_crash(tmp_path):
    import os

    from click.testing import CliRunner

    from controlplane.migrations_audit.cli import audit_command

    root = tmp_path / "project"
    root.mkdir()
    name = os.fsdecode(b"bad\xffname.py")
    (root / name).write_text(
        'from flask import Flask\napp = Flask(__name__)\n@app.get("/x")\ndef x():\n    return 1\n'
    )
    cache = tmp_path / "cache"
    for _ in range(2):  # a cold run writes the entry, a warm one reads it
        result = CliRunner().invoke(
            audit_command, [str(root), "--format", "json", "--cache-dir", str(cache)]
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["endpoints"] == []
        assert report["skipped"][0]["reason"] == "file name is not valid UTF-8"
