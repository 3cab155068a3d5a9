"""Browser fixtures: the console served by waitress on a free port, driven by headless chromium.

Playwright from PyPI drives Debian's `chromium` (no browser download): `make test` installs the
package when it is missing. Screenshots land in test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from controlplane import db
from controlplane.broker.embedded import free_port
from controlplane.config import Settings
from controlplane.services import Services, build_services
from tests.conftest import OUTPUT_DIR, PASSWORD, add_user, require, served_in_background

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = OUTPUT_DIR / "screenshots"


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CONTROLPLANE_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    require(executable is not None, "chromium is not installed (make test installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed")
        raise
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def live_services(settings: Settings) -> Iterator[Services]:
    """A console that samples every second and ingests events, as `controlplane up` runs it
    (a module uses it by defining `services` as this)."""
    from controlplane.processes.ingest import start_ingester
    from controlplane.processes.scheduler import FleetScheduler

    built = build_services(dataclasses.replace(settings, sample_interval=1.0))
    db.upgrade(built.engine)
    ingester = start_ingester(built)
    scheduler = FleetScheduler(built).start()
    yield built
    scheduler.stop()
    ingester.stop()
    built.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The test app served over real HTTP, as a browser needs it."""
    from waitress import create_server

    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=6)
    with served_in_background(server):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def page_as(
    browser: Any, live_url: str, services: Services, unique: str
) -> Iterator[Callable[[str], Any]]:
    """A logged-in browser page for a new user of the given role."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(role: str) -> Any:
        username = f"{role}-{unique}-{len(contexts)}"
        add_user(services, username, role)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.goto(live_url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_url + "/")
        page.base_url = live_url
        page.username = username
        return page

    yield make
    for context in contexts:
        context.close()
    # A CSP violation or a script error is a bug even when the test's assertions passed.
    assert not errors, f"browser errors: {errors}"


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
