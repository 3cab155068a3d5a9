"""The task list as Flower has it: exception text, elapsed time, progress, args (redacted and
cut), sorting by time and runtime, a substring name match; refreshed as one page, not per row."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.fleet import task_history
from controlplane.fleet.task_history import TaskFilter, json_or_text, list_tasks
from controlplane.models import Task
from controlplane.services import Services, build_services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user, log_in

NAME = "worker_tasks.tasks.always_fails"
HOSTILE = '<img src=x onerror=alert(1)><b hx-get="/logout" hx-trigger="load">x</b>'


def seed(services: Services, unique: str) -> dict[str, str]:
    now = utcnow()
    ids = {
        "failed": f"failed-{unique}",
        "running": f"running-{unique}",
        "fast": f"fast-{unique}",
        "slow": f"slow-{unique}",
        "other": f"other-{unique}",
    }
    rows = [
        Task(task_id=ids["failed"], name=NAME, state="FAILURE", queue="q",
             exception=f"ValueError('disk full on /data {HOSTILE}')", args="['abc']",
             kwargs="{'password': '***'}", runtime=0.4, first_seen_at=now - timedelta(seconds=50),
             finished_at=now - timedelta(seconds=49), updated_at=now),
        Task(task_id=ids["running"], name="worker_tasks.tasks.csv_batch", state="STARTED",
             queue="q", args="[" + ", ".join(["1"] * 200) + "]", kwargs="{}",
             started_at=now - timedelta(seconds=75), first_seen_at=now - timedelta(seconds=80),
             updated_at=now),
        Task(task_id=ids["fast"], name="worker_tasks.tasks.add", state="SUCCESS", queue="q",
             runtime=0.0002, first_seen_at=now - timedelta(seconds=30), updated_at=now),
        Task(task_id=ids["slow"], name="worker_tasks.tasks.slow", state="SUCCESS", queue="q",
             runtime=12.5, first_seen_at=now - timedelta(seconds=20), updated_at=now),
        Task(task_id=ids["other"], name="other.tasks.always_failsafe", state="SUCCESS",
             queue="q", runtime=1.0, first_seen_at=now - timedelta(seconds=10), updated_at=now),
    ]  # fmt: skip
    with services.transaction() as session:
        session.add_all(rows)
    return ids


def row_of(page: str, task_id: str) -> str:
    start = page.index(f'data-task="{task_id}"')
    return page[start : page.index("</tr>", start)]


def test_rows_show_exception_elapsed_progress_and_cut_args_with_untrusted_text_inert(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    ids = seed(services, unique)
    services.celery.backend.store_result(ids["running"], {"current": 30, "total": 120}, "PROGRESS")
    page = client_as("operator").get("/tasks").get_data(as_text=True)
    failed = row_of(page, ids["failed"])
    assert "disk full on /data" in failed and 'class="exception' in failed
    assert "&lt;img" in failed and "<img" not in failed and "<b hx-get" not in failed
    assert "password" in failed and "***" in failed
    running = row_of(page, ids["running"])
    assert re.search(r'data-field="elapsed">running 7\d s<', running)
    assert 'aria-valuenow="25.0"' in running and "25%" in running
    args = re.search(r'class="args mono small" hx-disable>([^<]*)<', running)
    assert args and len(args.group(1)) <= 80 and args.group(1).endswith("…")
    # every cell with untrusted text is inert; the rows never poll on their own
    for cell in re.findall(r"<td[^>]*>", failed):
        assert (
            "hx-disable" in cell or 'class="pick"' in cell or "<td title" in cell or "num" in cell
        )
    assert "/row" not in page
    tbody = re.search(r'<tbody id="task-rows"([^>]*)>', page)
    assert tbody and 'hx-trigger="every 3s"' in tbody.group(1)
    assert "fragment=rows" in tbody.group(1) and "hx-disable" not in tbody.group(1)


def test_the_visible_page_comes_back_in_one_fragment_with_its_filters(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    ids = seed(services, unique)
    client = client_as("viewer")
    page = client.get("/tasks?state=SUCCESS&sort=slowest").get_data(as_text=True)
    url = re.search(r'<tbody id="task-rows" hx-get="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    fragment = client.get(url.replace("&amp;", "&"), headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "<tbody" not in text
    shown = re.findall(r'data-task="([^"]+)"', text)
    assert shown == [ids["slow"], ids["other"], ids["fast"]]


def test_name_matches_a_substring_or_prefix_and_the_full_name(
    services: Services, unique: str
) -> None:
    ids = seed(services, unique)

    def names(text: str) -> set[str]:
        page = list_tasks(services, TaskFilter(name=text), limit=50)
        return {t.task_id for t in page.tasks}

    assert names("always_fails") == {ids["failed"], ids["other"]}
    assert names(NAME) == {ids["failed"]}
    assert names("worker_tasks.") == {ids["failed"], ids["running"], ids["fast"], ids["slow"]}
    assert names("always%") == set() and names("always_f_ils") == set()  # no wildcards


def test_sorting_by_time_and_runtime_walks_every_row_once(services: Services, unique: str) -> None:
    seed(services, unique)
    for sort, key, reverse in (
        ("newest", "first_seen_at", True), ("oldest", "first_seen_at", False),
        ("slowest", "runtime", True), ("fastest", "runtime", False),
    ):  # fmt: skip
        seen, cursor = [], None
        while True:
            page = list_tasks(services, TaskFilter(), cursor, 2, sort)
            seen.extend(page.tasks)
            cursor = page.next_cursor
            if cursor is None:
                break
        values = [getattr(t, key) for t in seen]
        assert values == sorted(values, reverse=reverse), sort
        expected = 4 if key == "runtime" else 5  # runtime orders leave out unfinished tasks
        assert len({t.task_id for t in seen}) == len(seen) == expected, sort


def test_bad_sort_is_named(client_as: Callable[[str], FlaskClient]) -> None:
    page = client_as("viewer").get("/tasks?sort=sideways").get_data(as_text=True)
    assert "sort: expected one of newest, oldest, slowest, fastest" in page
    assert task_history.parse_sort(None) == "newest"


def test_api_returns_args_as_json_where_they_were_json_and_sorts(
    services: Services, client: FlaskClient, token_for: Callable[[str], str], unique: str
) -> None:
    ids = seed(services, unique)
    headers = {"Authorization": f"Bearer {token_for('viewer')}"}
    body = client.get(f"/api/v1/tasks/{ids['failed']}", headers=headers).get_json()
    assert body["args"] == ["abc"] and body["kwargs"] == {"password": "***"}
    listed = client.get("/api/v1/tasks?sort=fastest&limit=2", headers=headers).get_json()
    assert [t["task_id"] for t in listed["tasks"]] == [ids["fast"], ids["failed"]]
    assert json_or_text("(1, 'a')") == [1, "a"]
    assert json_or_text("[1, 2, 3, …") == "[1, 2, 3, …"  # cut when stored: the text
    assert json_or_text("<object at 0x1>") == "<object at 0x1>"


def test_retry_pushes_the_new_tasks_url_and_shows_its_page(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str,
    shared_worker: WorkerProcess,
) -> None:  # fmt: skip
    ids = seed(services, unique)
    operator = client_as("operator")
    answer = operator.post(
        f"/tasks/{ids['failed']}/retry",
        data={"csrf_token": operator.csrf_token},  # type: ignore[attr-defined]
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    pushed = answer.headers["HX-Push-Url"]
    new_id = pushed.rsplit("/", 1)[1]
    assert pushed == f"/tasks/{new_id}" and new_id != ids["failed"]
    assert answer.headers["HX-Retarget"] == "main" and answer.headers["HX-Reselect"] == "main"
    body = answer.get_data(as_text=True)
    assert "<main>" in body and new_id in body and 'id="retry-of-link"' in body


def test_without_a_result_backend_the_task_page_says_why(
    settings: Settings, services: Services, unique: str
) -> None:
    ids = seed(services, unique)
    amqp = dataclasses.replace(settings, broker_url="amqp://guest:guest@127.0.0.1:5672//")
    app = create_app(build_services(amqp), {"TESTING": True})
    client = app.test_client()
    add_user(services, f"v-{unique}", "viewer")
    log_in(client, f"v-{unique}")
    page = client.get(f"/tasks/{ids['running']}").get_data(as_text=True)
    assert "No result backend configured: progress and results are not available." in page
    fine = create_app(services, {"TESTING": True}).test_client()
    log_in(fine, f"v-{unique}")
    assert "No result backend" not in fine.get(f"/tasks/{ids['running']}").get_data(as_text=True)


def test_an_autoretried_task_is_not_its_own_parent_or_child(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    now = utcnow()
    task_id = f"flaky-{unique}"
    with services.transaction() as session:
        session.add(Task(task_id=task_id, name="worker_tasks.tasks.flaky", state="SUCCESS",
                         parent_id=task_id, root_id=task_id, retries=2, first_seen_at=now,
                         updated_at=now))  # fmt: skip
        session.add(Task(task_id=f"child-{unique}", name="t.child", state="SUCCESS",
                         parent_id=task_id, first_seen_at=now, updated_at=now))  # fmt: skip
    detail = task_history.task_detail(services, task_id)
    assert detail is not None and detail.parent is None
    assert [c.task_id for c in detail.children] == [f"child-{unique}"]
    page = client_as("viewer").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<dt>Parent</dt>" not in page and page.count("<dt>Child</dt>") == 1
