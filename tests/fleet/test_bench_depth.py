"""bench/depth.py keeps working: a tiny run prints both cases as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def test_depth_bench_prints_both_cases_at_a_tiny_size() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    output = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "depth.py"), "--queues", "20", "--repeat", "3"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    figures = [json.loads(line) for line in output.splitlines()]
    cases = {(f["case"], f["metric"]) for f in figures}
    assert {("controlplane", "median_ms"), ("llen_loop", "median_ms")} <= cases
    assert all(f["bench"] == "depth" and f["value"] > 0 for f in figures)
