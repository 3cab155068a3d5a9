"""Fixtures for the audit tests: write a small inline project, audit it, compare exactly.

Rule tests read like pyflakes' ``flakes(code, Expected)``::

    def test_delay_is_offloaded(check):
        check({"app.py": "..."}, {"handler": ("offloaded", False)})
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controlplane.migrations_audit import AuditConfig, Report, audit

Files = dict[str, str]
Expected = dict[str, tuple[str, bool]]


def write_tree(root: Path, files: Files) -> Path:
    """Write dedented snippets under ``root``; keys are relative paths."""
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def outcome(report: Report) -> Expected:
    """{handler: (status, heavy)}."""
    return {e.handler: (e.status, e.heavy) for e in report.endpoints}


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[Files], Path]:
    """``tree(files)`` writes a project and returns its root."""
    return lambda files: write_tree(tmp_path / "project", files)


@pytest.fixture
def run_audit(tree: Callable[[Files], Path]) -> Callable[..., Report]:
    """``run_audit(files, **config)`` -> Report (parsed in this process, no cache)."""

    def run(files: Files, **config: Any) -> Report:
        return audit(tree(files), AuditConfig(**config), jobs=1)

    return run


@pytest.fixture
def check(run_audit: Callable[..., Report]) -> Callable[..., Report]:
    """``check(files, expected, **config)``: assert every endpoint's (status, heavy)."""

    def run(files: Files, expected: Expected, **config: Any) -> Report:
        report = run_audit(files, **config)
        assert outcome(report) == expected
        return report

    return run
