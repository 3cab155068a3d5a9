"""The documented install path is real: `make dist` builds a wheel that installs into a fresh
venv, where `controlplane --help` and `controlplane db upgrade` work and the deploy guide the
systemd units point at exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result  # type: ignore[no-any-return]


@pytest.mark.long  # a minute or more of real processes: make faults runs it
def test_the_wheel_from_make_dist_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    built = run(["make", "dist", f"PYTHON={sys.executable}"], cwd=ROOT)
    [wheel] = sorted((ROOT / "dist").glob("controlplane-*.whl"))
    assert wheel.name in built.stdout
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin/pip"), "install", "--quiet", str(wheel)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env["CONTROLPLANE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    work = tmp_path / "elsewhere"
    work.mkdir()  # not the checkout: only the installed package is importable
    helped = run([str(venv / "bin/controlplane"), "--help"], cwd=work, env=env)
    assert "serve" in helped.stdout and "db" in helped.stdout
    upgraded = run([str(venv / "bin/controlplane"), "db", "upgrade"], cwd=work, env=env)
    assert "database at revision" in upgraded.stdout
    guide = venv / "share/doc/controlplane/README.md"
    assert guide.is_file() and "make dist" in guide.read_text()
    for unit in (ROOT / "deploy/systemd").glob("*.service"):
        text = unit.read_text()
        assert (
            "Documentation=file:///opt/controlplane/.venv/share/doc/controlplane/README.md"
            in (text)
            or "Documentation" not in text
        ), unit.name
        assert (venv / "share/doc/controlplane/systemd" / unit.name).is_file()
