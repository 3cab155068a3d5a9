"""Hostile input at the door (issue 15 items 7, 17, 18, 19): secrets never stored in or shown
from the action log, 400 (never 500) for bad input, task ids that would be paths, and bidi
controls shown escaped."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from urllib.parse import urljoin

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.clock import utcnow
from controlplane.events.decode import MalformedEvent
from controlplane.events.validate import task_row_from_event
from controlplane.models import Action, Task, Worker
from controlplane.services import Services
from tests.events.test_redaction_gaps import REDACTOR

NOW = time.time()
SECRETS = ("hunter2", "s3cr/et", "k-12345", "abcdef123456", "deep-pw", "AKIAIOSFODNN7EXAMPLE")


def stored_actions(services: Services) -> str:
    with services.transaction() as session:
        rows = session.scalars(select(Action)).all()
        return json.dumps([[r.params, r.error, r.result, r.target] for r in rows])


def published(services: Services) -> int:
    """Messages waiting in the console's queues on its private test broker."""
    client = redis.Redis.from_url(services.settings.broker_url or "")
    return sum(int(client.llen(queue)) for queue in services.settings.queues)  # type: ignore[arg-type]


# ---- 7. the action log stores and shows no secret --------------------------------------------


def test_trigger_secrets_are_not_stored_nor_shown_to_viewers(
    services: Services,
    token_for: Callable[[str], str],
    client_as: Callable[[str], FlaskClient],
    app: Flask,
) -> None:
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    body = {
        "name": "worker_tasks.tasks.add",
        "args": ["postgres://app:s3cr/et@db/x", "Authorization: Bearer abcdef123456"],
        "kwargs": {
            "password": "hunter2",
            "api_key": "k-12345",
            "db": {"password": "deep-pw"},
            "aws": "AKIAIOSFODNN7EXAMPLE",
        },  # fmt: skip
        "queue": "no-such-queue-at-all",
    }
    client = app.test_client()
    client.post("/api/v1/tasks", json=body, headers=operator)
    # an unparsable body: its first characters are kept, redacted
    raw = '{"kwargs": {"password": "hunter2", "api_key": "k-12345", oops'
    answer = client.post(
        "/api/v1/tasks", data=raw, headers={**operator, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    stored = stored_actions(services)
    assert len(json.loads(stored)) == 2 and "***" in stored
    for secret in SECRETS:
        assert secret not in stored, (secret, stored)
    viewer_token = {"Authorization": f"Bearer {token_for('viewer')}"}
    shown_api = client.get("/api/v1/actions", headers=viewer_token).get_data(as_text=True)
    shown_page = client_as("viewer").get("/actions").get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in shown_api and secret not in shown_page, secret


def test_rows_stored_before_the_rules_are_redacted_when_shown(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    with services.transaction() as session:
        session.add(Action(at=utcnow(), actor="old", action="trigger", target="x",
                           params='{"kwargs": {"pwd": "hunter2"}}', outcome="error",
                           error="failed: redis://:s3cr/et@cache/0"))  # fmt: skip
    page = client_as("viewer").get("/actions").get_data(as_text=True)
    assert "hunter2" not in page and "s3cr/et" not in page and "old" in page


# ---- 17. 400, not 500 ------------------------------------------------------------------------


def test_a_bad_since_is_a_400_on_the_page_and_the_api(
    app: Flask, token_for: Callable[[str], str], client_as: Callable[[str], FlaskClient]
) -> None:
    viewer = {"Authorization": f"Bearer {token_for('viewer')}"}
    answer = app.test_client().get("/api/v1/actions?since=garbage", headers=viewer)
    assert answer.status_code == 400 and "since" in answer.get_json()["error"]
    page = client_as("viewer").get("/actions?since=garbage")
    assert page.status_code == 400 and "ISO 8601" in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/tasks/bulk"])
def test_json_nested_past_the_parsers_stack_is_a_400_and_logged(
    app: Flask, services: Services, token_for: Callable[[str], str], path: str
) -> None:
    operator = {"Authorization": f"Bearer {token_for('operator')}",
                "Content-Type": "application/json"}  # fmt: skip
    deep = '{"name": "worker_tasks.tasks.add", "args": ' + "[" * 100_000 + "]" * 100_000 + "}"
    before = published(services)
    answer = app.test_client().post(path, data=deep, headers=operator)
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert "nested" in answer.get_json()["error"]  # the depth bound, or the parser's stack
    assert published(services) == before
    assert "nested" in stored_actions(services)


def test_json_nested_past_the_parsers_stack_in_the_trigger_form_is_a_400(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    operator = client_as("operator")
    before = published(services)
    answer = operator.post(
        "/trigger",
        data={
            "name": "worker_tasks.tasks.add",
            "args": "[" * 100_000 + "]" * 100_000,
            "csrf_token": operator.csrf_token,
        },  # type: ignore[attr-defined]  # fmt: skip
    )
    assert answer.status_code == 400 and "nested" in answer.get_data(as_text=True)
    assert published(services) == before


def test_a_newline_in_next_after_login_is_ignored(app: Flask, services: Services) -> None:
    from tests.conftest import PASSWORD, add_user, csrf_token_of

    add_user(services, "pat", "viewer")
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    answer = client.post(
        "/login",
        data={
            "username": "pat",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/tasks\r\nSet-Cookie: evil=1",
        },  # fmt: skip
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "evil" not in str(answer.headers)


# ---- 18. task ids that would be paths ---------------------------------------------------------


@pytest.mark.parametrize("task_id", ["../trigger", "a/b", "..", "x\\..\\trigger"])
def test_task_ids_that_are_paths_are_refused_at_ingest(task_id: str) -> None:
    event = {"type": "task-received", "uuid": task_id, "hostname": "w@h", "timestamp": NOW}
    with pytest.raises(MalformedEvent, match="uuid"):
        task_row_from_event(event, REDACTOR)
    assert task_row_from_event({**event, "uuid": "fine-1"}, REDACTOR).task_id == "fine-1"


def test_parent_and_root_ids_that_are_paths_are_dropped() -> None:
    event = {"type": "task-received", "uuid": "ok-1", "hostname": "w@h", "timestamp": NOW,
             "parent_id": "../trigger", "root_id": "/logout"}  # fmt: skip
    row = task_row_from_event(event, REDACTOR)
    assert row.task_id == "ok-1" and row.parent_id is None and row.root_id is None


def test_ids_stored_before_the_refusal_stay_one_path_segment_in_links(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    now = utcnow()
    with services.transaction() as session:
        for task_id in ("a/../../trigger", "..", "b\\..\\logout"):
            session.add(Task(task_id=task_id, name="x", state="SUCCESS", first_seen_at=now,
                             updated_at=now))  # fmt: skip
    page = client_as("viewer").get("/tasks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    task_links = re.findall(r'(?:href|hx-get)="(/tasks/[^"]+)"', html)
    assert len(task_links) >= 3
    for href in task_links:  # what a browser would request: still a task's page
        assert urljoin("http://console/tasks", href).startswith("http://console/tasks/"), href
    assert "/tasks/a%2F..%2F..%2Ftrigger" in html and "/tasks/..%2F" in html


# ---- 19. bidi controls -----------------------------------------------------------------------


def test_bidi_controls_are_shown_escaped(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    now = utcnow()
    name = "invoice\u202egpj.exe"
    with services.transaction() as session:
        session.add(Task(task_id="bidi-1", name=name, state="FAILURE",
                         queue="q\u2066ueue", worker="host\u202d@x",
                         exception="ValueError('\u2067evil')", first_seen_at=now,
                         updated_at=now))  # fmt: skip
        session.add(Worker(hostname="host\u202d@x", status="online", last_heartbeat=now,
                           queues="[]", updated_at=now))  # fmt: skip
    viewer = client_as("viewer")
    for path in ("/tasks", "/tasks/bidi-1", "/workers"):
        page = viewer.get(path).get_data(as_text=True)
        for char in ("\u202e", "\u2066", "\u202d", "\u2067"):
            assert char not in page, (path, hex(ord(char)))
    assert "invoice[U+202E]gpj.exe" in viewer.get("/tasks").get_data(as_text=True)
    detail = viewer.get("/tasks/bidi-1").get_data(as_text=True)
    assert "[U+2067]evil" in detail and "host[U+202D]@x" in detail


def test_markup_with_bidi_controls_stays_markup(app: Flask) -> None:
    from flask import render_template_string
    from markupsafe import Markup

    with app.app_context():
        shown = render_template_string(
            "{{ chart }} {{ text }}", chart=Markup("<svg><title>q\u202eu</title></svg>"),
            text="<b>\u202e</b>",
        )  # fmt: skip
    assert shown == "<svg><title>q[U+202E]u</title></svg> &lt;b&gt;[U+202E]&lt;/b&gt;"
