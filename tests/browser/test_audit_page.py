"""The Audit page in a real browser: an admin starts a run and sees it finish without a reload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controlplane.config import Settings
from tests.audit.audit_support import make_inline, with_projects, write_shop
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop", hostile=True)


@pytest.fixture
def settings(settings: Settings, shop: Path, tmp_path: Path) -> Settings:
    return with_projects(settings, tmp_path / "audit-cache", shop=shop)


def _run(page: Any, run_id: int) -> str:
    """Press the button; wait for that run's result to replace the card, in place."""
    page.click("#run-audit-shop")
    result = f"#audit-project-shop .audit-finished:has-text('Run {run_id} finished')"
    return str(page.inner_text(result, timeout=20000))


def test_admin_starts_an_audit_and_sees_it_finish_without_reloading(
    page_as: Callable[[str], Any], shop: Path
) -> None:
    page = page_as("admin")
    page.click("nav >> text=Audit")
    page.wait_for_selector("#run-audit-shop")
    page.evaluate("window.notReloaded = true")
    assert "coverage 33.3%" in _run(page, 1)
    make_inline(shop)  # a second run: the trend has two points and the diff link appears
    assert "coverage 25.0%" in _run(page, 2)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#audit-trend-shop circle").count() == 2
    # markup in the audited code stays text
    page.click("#audit-project-shop .audit-finished a")
    page.wait_for_selector("#endpoint-table")
    assert page.locator("#endpoint-table img").count() == 0
    assert "<img src=x onerror=alert(1)>" in page.inner_text("#endpoint-table")
    screenshot(page, "audit-run")
    page.click("#diff-previous")
    page.wait_for_selector("#became-inline")
    assert "order_report" in page.inner_text("#became-inline")
    screenshot(page, "audit-diff")
    page.goto(page.base_url + "/audit")
    screenshot(page, "audit")
    page.goto(page.base_url + "/")
    assert "25.0%" in page.inner_text("#audit-card")
    screenshot(page, "dashboard-audit")


def test_viewer_finds_no_run_button(page_as: Callable[[str], Any]) -> None:
    page = page_as("viewer")
    page.goto(page.base_url + "/audit")
    page.wait_for_selector("#audit-project-shop")
    assert page.locator("#run-audit-shop").count() == 0
