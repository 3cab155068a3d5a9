"""A project's pyproject.toml that is a symlink out of its root is not read (issue 15 item
20): same containment as .py files, so another file's contents never reach an error that
viewers see."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlplane import audit_runs
from controlplane.config import Settings
from controlplane.services import Services
from tests.audit.audit_support import with_projects, write_shop


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop", hostile=True)


@pytest.fixture
def settings(settings: Settings, shop: Path, tmp_path: Path) -> Settings:
    return with_projects(settings, tmp_path / "audit-cache", shop=shop)


def test_a_pyproject_symlink_out_of_the_root_is_not_read(
    services: Services, shop: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere" / "credentials"
    secret.parent.mkdir()
    # not TOML: reading it would fail the run with an error quoting its contents
    secret.write_text("db_password = hunter2 <- not toml\n[tool.controlplane.audit\n")
    (shop / "pyproject.toml").symlink_to(secret)
    run = audit_runs.run_audit(services, "shop", "alice")
    assert run.status == "done", run.error
    assert "hunter2" not in (run.error or "")
    skipped = {s["file"]: s["reason"] for s in audit_runs.skipped_files(services, run.id)}
    assert "outside the project root" in skipped["pyproject.toml"]


def test_a_pyproject_inside_the_root_is_still_read(services: Services, shop: Path) -> None:
    (shop / "pyproject.toml").write_text("[tool.controlplane.audit]\nmax_depth = 'deep'\n")
    run = audit_runs.run_audit(services, "shop", "alice")
    assert run.status == "failed" and "max_depth" in (run.error or "")
