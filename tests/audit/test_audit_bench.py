"""Keep bench/audit.py working: run it at a tiny size and read its JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "audit.py"


def test_the_audit_benchmark_prints_every_case_as_json_lines():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--lines", "2000", "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    figures = {(r["case"], r["metric"]) for r in rows}
    for case in ("cold", "warm", "warm_changed", "warm_edited", "parse_floor"):
        assert (case, "seconds") in figures and (case, "lines_per_s") in figures
    for case in ("cold", "warm", "warm_changed", "warm_edited"):
        assert (case, "cpu_seconds") in figures
    assert all(r["bench"] == "audit" and r["value"] > 0 for r in rows)
