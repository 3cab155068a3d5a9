"""Issue 15 item 1 in Chromium: ticking two rows and pressing "Retry selected" acts on two.

The htmx form must carry the scope itself (a hx-vals on the submit button was never sent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from controlplane.models import Action, Task
from controlplane.services import Services
from tests.control.safety.seeds import seed_failures


def test_ticking_two_rows_makes_the_dry_run_say_two(
    page_as: Callable[[str], Any], services: Services, unique: str
) -> None:
    ids = seed_failures(services, unique, 7)
    page = page_as("operator")
    page.goto(page.base_url + "/tasks?state=FAILURE")
    page.click("#retry-selected")  # nothing ticked yet: refused, nothing assumed
    page.wait_for_selector("#bulk-error")
    assert "select at least one task" in page.inner_text("#bulk-error")

    for task_id in (ids[2], ids[5]):
        page.check(f"input[name=ids][value='{task_id}']")
    page.click("#retry-selected")
    page.wait_for_selector("#bulk-confirmation")
    confirmation = page.inner_text("#bulk-confirmation")
    assert "Ticked rows (2 selected)" in confirmation
    assert page.inner_text("#bulk-confirmation [data-field=would-act-on]") == "2"
    assert ids[2] in confirmation and ids[5] in confirmation and ids[0] not in confirmation
    assert page.get_attribute("#bulk-confirmation", "data-scope") == "selected"

    page.click("#retry-all")  # the other scope says it is the other scope
    page.wait_for_selector("#bulk-confirmation[data-scope=filter]")
    assert page.inner_text("#bulk-confirmation [data-field=would-act-on]") == "7"
    assert "All tasks matching the filter" in page.inner_text("#bulk-confirmation")

    with services.transaction() as session:
        refused = session.scalars(select(Action).where(Action.outcome == "refused")).all()
        assert len(refused) == 1 and "select at least one task" in (refused[0].error or "")
        assert session.scalars(select(Task).where(Task.retry_of.is_not(None))).all() == []
