"""Benchmark the migration audit on a generated tree of ~1M lines across ~5,000 files, or
on a real project (``--root DIR``, copied first so that one file can be changed).

Prints one JSON object per figure (ARCHITECTURE.md, Benchmarks):

    cold         seconds, cpu_seconds, lines_per_s, files_per_s   first run: parse every file,
                                                                  fill the caches
    warm         seconds, cpu_seconds, lines_per_s, files_per_s   second run, nothing changed
    warm_changed seconds, cpu_seconds, lines_per_s, files_per_s   after a comment was appended
                                                                  to one file
    warm_edited  seconds, cpu_seconds, lines_per_s, files_per_s   after a function was added to
                                                                  a file (analysed again)
    parse_floor  seconds, lines_per_s                plain ast.parse of every file, one process
    memory       peak_rss_mb                         this process and its worker processes

``cpu_seconds`` is this process's CPU time plus its worker processes'; on a shared machine
it is the steadier figure. Each warm report is checked against a cold run (no cache) of the
same tree; the bench fails when they differ.

Usage: .venv/bin/python bench/audit.py [--lines N | --root DIR] [--jobs J] [--keep DIR]
"""

from __future__ import annotations

import argparse
import ast
import gc
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controlplane.migrations_audit import AuditConfig, Report, audit
from controlplane.migrations_audit.scan import discover

LINES_PER_FILE = 200
FEATURES = (
    "billing",
    "catalog",
    "orders",
    "reports",
    "search",
    "uploads",
    "users",
    "charts",
    "pricing",
    "forecast",
)


def _helper(rng: random.Random, name: str, others: list[str]) -> list[str]:
    callee = rng.choice(others) if others else "len"
    return [
        f"def {name}(records, threshold={rng.randint(1, 99)}):",
        f'    """Summarise records above a threshold ({name})."""',
        "    totals = {}",
        "    for index, record in enumerate(records):",
        "        key = record.get('key', index)",
        "        if record.get('value', 0) > threshold:",
        "            totals[key] = totals.get(key, 0) + record['value']",
        "        elif key in totals:",
        "            totals[key] -= 1",
        "        else:",
        "            totals.setdefault(key, 0)",
        "    ordered = sorted(totals.items(), key=lambda item: item[1], reverse=True)",
        f"    extra = {callee}([r for r in records if r])",
        "    return {'top': ordered[:10], 'count': len(ordered), 'extra': extra}",
        "",
        "",
    ]


def utils_module(rng: random.Random, feature: str, n: int, target: int) -> str:
    lines = [
        f'"""Helpers for the {feature} feature."""',
        "",
        "import logging",
        "from collections import defaultdict",
        "",
        "logger = logging.getLogger(__name__)",
        "",
        "",
    ]
    names: list[str] = []
    while len(lines) < target:
        name = f"summarise_{n}_{len(names)}"
        lines += _helper(rng, name, names[-3:])
        names.append(name)
    return "\n".join(lines) + "\n"


def service_module(rng: random.Random, feature: str, n: int, target: int, utils: list[int]) -> str:
    util = rng.choice(utils)
    lines = [
        f'"""Business logic for {feature}."""',
        "",
        "import boto3",
        "import pandas as pd",
        "import requests",
        "",
        f"from app.features.{feature}.tasks_{n % 5} import process_{n % 5}",
        f"from app.features.{feature} import utils_{util} as helpers",
        "",
        's3 = boto3.client("s3")',
        "",
        "",
        f"class Service{n}:",
        f'    """Loads, transforms and stores {feature} data."""',
        "",
        "    def __init__(self, bucket: str = 'data'):",
        "        self.bucket = bucket",
        "",
    ]
    method = 0
    while len(lines) < target:
        kind = method % 4
        lines += [f"    def step_{method}(self, key: str, records: list):"]
        if kind == 0:
            lines += [
                "        frame = pd.read_csv(key)",
                "        frame = frame.dropna().groupby('k').agg('sum')",
                "        return frame.to_dict()",
            ]
        elif kind == 1:
            lines += [f"        return process_{n % 5}.delay(key)"]
        elif kind == 2:
            lines += [
                "        s3.put_object(Bucket=self.bucket, Key=key, Body=b'')",
                f"        return helpers.summarise_{util}_0(records)",
            ]
        else:
            lines += [
                "        response = requests.get('https://example.com/' + key, timeout=5)",
                "        response.raise_for_status()",
                f"        return self.step_{method - 1}(key, records)",
            ]
        lines += ["", ""]
        method += 1
    lines += [f"def get_service() -> Service{n}:", f"    return Service{n}()", ""]
    return "\n".join(lines) + "\n"


def tasks_module(feature: str, n: int) -> str:
    lines = [f'"""Celery tasks for {feature}."""', "", "from celery import shared_task", "", ""]
    lines += [
        "@shared_task(bind=True, max_retries=3)",
        f"def process_{n}(self, key):",
        "    return key",
        "",
        "",
    ]
    for extra in range(40):
        lines += [
            f"def _prepare_{extra}(payload):",
            "    payload = dict(payload)",
            f"    payload['step'] = {extra}",
            "    return payload",
            "",
            "",
        ]
    return "\n".join(lines) + "\n"


def routes_module(
    rng: random.Random, feature: str, n: int, target: int, services: list[int]
) -> str:
    lines = [
        f'"""HTTP endpoints for {feature}."""',
        "",
        "import asyncio",
        "from fastapi import APIRouter, BackgroundTasks, Depends",
        "",
    ]
    for s in services:
        lines.append(
            f"from app.features.{feature}.service_{s} import Service{s}, "
            f"get_service as get_service_{s}"
        )
    lines += ["", f'router = APIRouter(prefix="/{feature}/{n}")', "", ""]
    endpoint = 0
    while len(lines) < target:
        s = rng.choice(services)
        step = rng.randrange(4)
        verb = rng.choice(("get", "post", "put", "delete"))
        lines += [f'@router.{verb}("/items/{endpoint}")']
        if endpoint % 7 == 6:
            lines += [
                f"async def handle_{endpoint}(background_tasks: BackgroundTasks):",
                f"    background_tasks.add_task(Service{s}().step_{step}, 'k', [])",
                "    return {'queued': True}",
            ]
        else:
            lines += [
                f"def handle_{endpoint}(item_id: int, svc: Service{s} = Depends(get_service_{s})):",
                '    """Validate, call the service, shape the response."""',
                "    if item_id < 0:",
                "        return {'error': 'bad id'}",
                f"    result = svc.step_{step}(str(item_id), [])",
                "    return {'result': str(result)}",
            ]
        lines += ["", ""]
        endpoint += 1
    return "\n".join(lines) + "\n"


def generate(root: Path, total_lines: int, seed: int = 7) -> tuple[int, int]:
    """Write the tree; returns (files, lines)."""
    rng = random.Random(seed)
    files = max(total_lines // LINES_PER_FILE, len(FEATURES) * 10)
    per_feature = files // len(FEATURES)
    written = lines = 0
    (root / "app" / "features").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    for feature in FEATURES:
        package = root / "app" / "features" / feature
        package.mkdir()
        (package / "__init__.py").write_text("")
        count_routes = max(per_feature // 20, 1)
        count_services = max(per_feature // 5, 1)
        count_tasks = 5
        count_utils = max(per_feature - count_routes - count_services - count_tasks - 1, 1)
        utils = list(range(count_utils))
        modules: dict[str, str] = {}
        for n in range(count_tasks):
            modules[f"tasks_{n}.py"] = tasks_module(feature, n)
        for n in utils:
            target = rng.randint(LINES_PER_FILE // 2, LINES_PER_FILE * 3 // 2)
            modules[f"utils_{n}.py"] = utils_module(rng, feature, n, target)
        for n in range(count_services):
            modules[f"service_{n}.py"] = service_module(rng, feature, n, LINES_PER_FILE, utils)
        for n in range(count_routes):
            services = rng.sample(range(count_services), min(3, count_services))
            modules[f"routes_{n}.py"] = routes_module(rng, feature, n, LINES_PER_FILE, services)
        for name, text in modules.items():
            (package / name).write_text(text)
            written += 1
            lines += text.count("\n")
    return written + 1, lines


def copy_python_tree(source: Path, dest: Path) -> tuple[int, int]:
    """The Python files of a real project (what the audit reads); returns (files, lines)."""
    files = lines = 0
    for path in sorted(source.rglob("*.py")):
        if not path.is_file() or path.is_symlink():
            continue
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        target.write_bytes(data)
        files += 1
        lines += data.count(b"\n")
    return files, lines


COMMENT = "\n# edited between two audits\n"
NEW_FUNCTION = "\n\ndef _edited_between_audits(value):\n    return [value]\n"


def change_one_file(root: Path, rank: int = 0, text: str = COMMENT) -> str:
    """Append ``text`` to an audited module of median size (``rank`` picks a neighbour in
    size order), as an edit between two runs would. Only files the audit reads count: an
    edit in ``migrations/`` or a test changes nothing it sees."""
    modules = sorted(
        (root / relpath for relpath in discover(root.resolve())),
        key=lambda p: (p.stat().st_size, str(p)),
    )
    typical = modules[len(modules) // 2 + rank]
    with typical.open("a", encoding="utf-8") as fh:
        fh.write(text)
    return str(typical.relative_to(root))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_audit(root: Path, cache: Path, jobs: int) -> tuple[Report, float, float]:
    """The report, wall seconds and CPU seconds of one audit."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    report = audit(root, AuditConfig(), cache_dir=cache, jobs=jobs)
    return report, time.perf_counter() - wall, cpu_seconds() - cpu


def same_as_cold(report: Report, root: Path, jobs: int, case: str) -> bool:
    """Whether a report equals a run without cache on the same tree (JSON and every field)."""
    cold = audit(root, AuditConfig(), jobs=jobs)
    if report != cold or report.as_dict() != cold.as_dict():
        print(f"{case}: the report differs from a cold run of the same tree", file=sys.stderr)
        return False
    return True


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of the largest worker (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024


def emit(case: str, metric: str, value: float, unit: str) -> None:
    print(
        json.dumps(
            {
                "bench": "audit",
                "case": case,
                "metric": metric,
                "value": round(value, 3),
                "unit": unit,
            }
        ),
        flush=True,
    )


def parse_floor(root: Path) -> float:
    """Plain ``ast.parse`` of every file, one process, cyclic GC off (as the audit runs)."""
    gc.disable()
    try:
        start = time.perf_counter()
        for path in root.rglob("*.py"):
            try:
                ast.parse(path.read_bytes(), filename=str(path))
            except SyntaxError:
                continue  # the audit skips it too (newer syntax than this Python)
        return time.perf_counter() - start
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--lines",
        type=int,
        default=1_000_000,
        help="approximate size of the generated tree (default 1,000,000)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    parser.add_argument(
        "--root", type=Path, help="a real project to audit instead (copied, never changed)"
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    root = args.keep or workdir / "tree"
    try:
        if args.root is not None:
            files, lines = copy_python_tree(args.root, root)
        else:
            files, lines = generate(root, args.lines)
        cache = workdir / "cache"
        cold, cold_s, cold_cpu = timed_audit(root, cache, args.jobs)
        warm, warm_s, warm_cpu = timed_audit(root, cache, args.jobs)
        if warm != cold or warm.as_dict() != cold.as_dict():
            print("warm and cold reports differ", file=sys.stderr)
            return 1
        changed = change_one_file(root)
        commented, changed_s, changed_cpu = timed_audit(root, cache, args.jobs)
        same = same_as_cold(commented, root, args.jobs, "warm_changed")
        edited_file = change_one_file(root, 1, NEW_FUNCTION)
        edited, edited_s, edited_cpu = timed_audit(root, cache, args.jobs)
        same = same_as_cold(edited, root, args.jobs, "warm_edited") and same
        floor_s = parse_floor(root)
        emit("tree", "files", files, "1")
        emit("tree", "lines", lines, "1")
        emit("tree", "endpoints", cold.summary.endpoints, "1")
        print(f"changed for warm_changed: {changed}", file=sys.stderr)
        print(f"changed for warm_edited: {edited_file}", file=sys.stderr)
        for case, seconds, cpu in (
            ("cold", cold_s, cold_cpu),
            ("warm", warm_s, warm_cpu),
            ("warm_changed", changed_s, changed_cpu),
            ("warm_edited", edited_s, edited_cpu),
            ("parse_floor", floor_s, None),
        ):
            emit(case, "seconds", seconds, "s")
            if cpu is not None:
                emit(case, "cpu_seconds", cpu, "s")
            emit(case, "lines_per_s", lines / seconds, "1/s")
            if case != "parse_floor":
                emit(case, "files_per_s", files / seconds, "1/s")
        emit("memory", "peak_rss_mb", peak_rss_mb(), "MB")
        return 0 if same else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
