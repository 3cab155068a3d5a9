"""Fixtures for control tests that need the console's worker mailbox and hooked workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controlplane.control.mailbox import WorkerMailbox
from controlplane.services import Services


@pytest.fixture
def mailbox(services: Services) -> Iterator[WorkerMailbox]:
    """The console's pidbox node, as `controlplane up` and `controlplane events` run it."""
    node = WorkerMailbox(services, hostname=f"controlplane@test-{id(services)}").start()
    assert node.ready.wait(10), "the pause mailbox did not start listening"
    yield node
    node.stop()


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers started from now on install controlplane.worker_hook (worker_tasks reads this)."""
    monkeypatch.setenv("CONTROLPLANE_WORKER_HOOK", "1")
