"""Only a POST with a valid CSRF token (pages) or a bearer token (API) of the right role
changes anything: every rule of the url_map x every method x every role and anonymous, with
and without a CSRF token, checked against the database and the broker after each request."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.clock import utcnow
from controlplane.config import AuditProject, Settings
from controlplane.models import Base, Task, Worker
from controlplane.services import Services, build_services
from controlplane.web import create_app
from tests.conftest import PASSWORD, log_in

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
ROLES = ("viewer", "operator", "admin")
TASK_NAME = "worker_tasks.tasks.add"

# The least role a POST needs, per endpoint; "anyone" needs no login (the login form), "user"
# any logged-in user. A new POST route must be added here, which is the point: someone decides.
POST_ROLE = {
    "auth.login": "anyone",
    "auth.logout": "user",
    "alerts.ack": "operator",
    "alerts.forget": "operator",
    "audit.start": "operator",
    "fleet_actions.purge": "admin",
    "fleet_actions.consumers": "admin",
    "fleet_actions.pool": "admin",
    "fleet_actions.shutdown": "admin",
    "fleet_controls.pause": "operator",
    "fleet_controls.resume": "operator",
    "fleet_controls.set_rate": "operator",
    "fleet_controls.reset_rate": "operator",
    "fleet_controls.set_time": "operator",
    "fleet_controls.reset_time": "operator",
    "tasks.retry": "operator",
    "failures.change": "operator",
    "failures.retry": "operator",
    "schedules.run": "operator",
    "schedules.set_enabled_page": "admin",
    "schedules.set_enabled_by_name_page": "admin",
    "api_schedules.enable": "admin",
    "api_schedules.disable": "admin",
    "tasks.revoke": "operator",
    "tasks.bulk": "operator",
    "tasks.trigger": "operator",
    "users.add": "admin",
    "users.disable": "admin",
    "users.enable": "admin",
    "users.role": "admin",
    "users.passwd": "admin",
    "users.revoke_tokens": "admin",
    "users.revoke_token": "admin",
    "users.issue_token": "admin",
    "api_alerts.ack": "operator",
    "api_alerts.forget": "operator",
    "api_audit.start_run": "operator",
    "api_fleet_controls.pause": "operator",
    "api_fleet_controls.resume": "operator",
    "api_fleet_controls.reset": "operator",
    "api_fleet_controls.set_rate": "operator",
    "api_fleet_controls.set_time": "operator",
    "api_tasks.purge": "admin",
    "api_tasks.trigger": "operator",
    "api_tasks.retry": "operator",
    "api_tasks.revoke": "operator",
    "api_tasks.bulk": "operator",
    "api_tasks.add_consumer": "admin",
    "api_tasks.cancel_consumer": "admin",
    "api_tasks.pool": "admin",
    "api_tasks.shutdown": "admin",
    # alerting (issue 18 part 1): rules and channels are the admins', acks and silences
    # the operators'
    "alerting.ack": "operator",
    "alerting.rule_save": "admin",
    "alerting.rule_delete": "admin",
    "alerting.channel_save": "admin",
    "alerting.channel_test": "admin",
    "alerting.channel_delete": "admin",
    "alerting.silence_create": "operator",
    "api_alerting.rule_save": "admin",
    "api_alerting.channel_save": "admin",
    "api_alerting.channel_test": "admin",
    "api_alerting.ack": "operator",
    "api_alerting.silence_create": "operator",
}
# POSTs after which a caller is made afresh: they may log it in, out, or change its user.
RENEW_AFTER = {"auth.login", "auth.logout"} | {e for e in POST_ROLE if e.startswith("users.")}
# Everything a hostile page could put in a query string or a form, for every route at once.
HOSTILE = {
    "name": TASK_NAME,
    "args": "[666, 1]",
    "kwargs": "{}",
    "queue": "default",
    "action": "retry",
    "scope": "filter",
    "state": "FAILURE",
    "confirm": "yes",
    "username": "mallory",
    "password": "a long enough hostile passphrase",
    "role": "admin",
    "terminate": "on",
    "signal": "SIGKILL",
    "rate_limit": "1/s",
    "soft": "1",
    "hard": "2",
    "n": "1",
    "alert": "broker_down",
    "subject": "broker",
}


@dataclass
class Caller:
    """One way of calling: anonymous, or a role by session cookie or by bearer token."""

    role: str | None  # None: anonymous
    by: str  # "cookie" or "bearer"
    client: FlaskClient
    csrf: str = ""
    bearer: str = ""


@pytest.fixture
def private_redis() -> Iterator[EmbeddedRedis]:
    """Our own redis-server: every write command on it is one this test caused."""
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def world(private_redis: EmbeddedRedis, sqlite_url: str, tmp_path: Path) -> Iterator[Services]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("def view():\n    return 1\n")
    settings = Settings(
        broker_url=private_redis.url,
        database_url=sqlite_url,
        queues=("default",),
        secret_key="test-secret-key",
        inspect_timeout=0.2,
        login_max_failures=10_000,  # every caller logs in from 127.0.0.1: the throttle is not
        # what this test looks at (tests/web/test_accounts.py is)
        audit_projects=(AuditProject("proj", str(project)),),
    )
    services = build_services(settings)
    db.upgrade(services.engine)
    now = utcnow()
    with services.transaction() as session:
        session.add(
            Task(
                task_id="t-fail",
                name=TASK_NAME,
                state="FAILURE",
                queue="default",
                args="[1, 2]",
                kwargs="{}",
                first_seen_at=now,
                updated_at=now,
            )
        )
        # `registered` as the scheduler's inspection stores it: the trigger form lists a name
        # (a GET reads only what is stored, tests/web/test_task_names_get.py).
        session.add(Worker(hostname="w1@host", status="online", last_heartbeat=now,
                           queues=json.dumps(["default"]), registered=json.dumps([TASK_NAME]),
                           updated_at=now))  # fmt: skip
    yield services
    services.close()


def url_for_rule(rule: Rule) -> str:
    values = {"task_id": "t-fail", "queue": "default", "hostname": "w1@host",
              "task_name": TASK_NAME, "which": "rate", "run_id": 1, "name": "proj",
              "filename": "app.js", "username": "mallory", "token_id": 1,
              "id": 1, "state_id": 1, "group_id": 1, "action": "resolve",
              "schedule_id": 1}  # fmt: skip
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:[^:>]+:)?{argument}>", str(values[argument]), path)
    return path


class Snapshot:
    """What an action could change: the rows of every table, users and tokens in full, and
    the broker (every write to its dataset, every message published)."""

    def __init__(self, services: Services, broker: redis.Redis) -> None:
        self.services = services
        self.broker = broker
        # A refusal for a role is written down (issue 16 item 8, FAULTS.md row 15): that row
        # is the audit trail of the refused request, not a change it made.
        counts = ", ".join(
            f"(SELECT count(*) FROM {table.name}"
            + (" WHERE action != 'forbidden'" if table.name == "actions" else "")
            + ")"
            for table in Base.metadata.sorted_tables
        )
        self.counts = text(f"SELECT {counts}")
        self.listener = broker.pubsub()
        self.listener.psubscribe("*")
        self.published = 0

    def take(self) -> tuple[Any, ...]:
        with self.services.engine.connect() as connection:
            counts = tuple(connection.execute(self.counts).one())
            people = connection.execute(text("SELECT * FROM users ORDER BY id")).all()
            tokens = connection.execute(
                text("SELECT id, user_id, token_hash FROM api_tokens ORDER BY id")
            ).all()
        digest = hashlib.sha256(repr((people, tokens)).encode()).hexdigest()
        # redis counts every change to its dataset (saving is off, so it never resets)
        dirty = self.broker.info("persistence")["rdb_changes_since_last_save"]
        # A message published by the last request may not have reached our socket yet: a
        # PING on the subscriber connection comes back after everything published before it.
        self.listener.ping()
        while (message := self.listener.get_message(timeout=5)) is not None:
            if message["type"] == "pong":
                break
            self.published += message["type"] == "pmessage"
        return counts, digest, dirty, self.published


def allowed(endpoint: str | None, caller: Caller, with_csrf: bool) -> bool:
    """Whether a POST routed to `endpoint` by `caller` may act (None: no POST route here)."""
    if endpoint is None:
        return False
    needed = POST_ROLE[endpoint]
    if endpoint.startswith("api"):  # bearer tokens only: a cookie never acts on the API
        return caller.by == "bearer" and users.has_role(caller.role or "", needed)
    if caller.by != "cookie" or not with_csrf:
        return False
    if needed == "anyone":
        return True
    if caller.role is None:
        return False
    return needed == "user" or users.has_role(caller.role, needed)


def post_endpoint(app: Flask, url: str) -> str | None:
    """The endpoint a POST to `url` reaches, if any."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(url, method="POST")
    except HTTPException:
        return None
    return str(endpoint)


def test_nothing_changes_unless_a_post_with_csrf_by_the_right_role(world: Services) -> None:
    services = world
    app: Flask = create_app(services, {"TESTING": True})
    broker = redis.Redis.from_url(services.settings.broker_url or "")
    snapshot = Snapshot(services, broker)
    counter = iter(range(10_000))

    def cookie_caller(role: str | None) -> Caller:
        client = app.test_client()
        if role is None:
            page = client.get("/login").get_data(as_text=True)
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
            return Caller(None, "cookie", client, csrf.group(1) if csrf else "")
        name = f"{role}{next(counter)}"
        users.create_user(services, name, PASSWORD, role)
        return Caller(role, "cookie", client, log_in(client, name))

    def bearer_caller(role: str) -> Caller:
        name = f"api-{role}{next(counter)}"
        users.create_user(services, name, PASSWORD, role)
        return Caller(role, "bearer", app.test_client(), bearer=users.create_token(services, name))

    makers: list[Callable[[], Caller]] = [lambda: cookie_caller(None)]
    makers += [lambda role=role: cookie_caller(role) for role in ROLES]  # type: ignore[misc]
    makers += [lambda role=role: bearer_caller(role) for role in ROLES]  # type: ignore[misc]
    callers = [make() for make in makers]

    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    unclassified = [
        r.endpoint for r in rules if "POST" in r.methods and r.endpoint not in POST_ROLE
    ]  # type: ignore[operator]
    assert not unclassified, f"say which role these POST routes need: {unclassified}"

    urls = sorted({url_for_rule(rule) for rule in rules})
    changed: list[str] = []
    acted: set[str] = set()
    checked = 0
    before = snapshot.take()
    for url in urls:
        poster = post_endpoint(app, url)
        for method in METHODS:
            for index in range(len(callers)):
                for with_csrf in (False, True):
                    caller = callers[index]
                    if with_csrf and not caller.csrf:
                        continue  # a bearer caller has no CSRF token to send
                    headers: dict[str, str] = {}
                    form = dict(HOSTILE)
                    if caller.bearer:
                        headers["Authorization"] = f"Bearer {caller.bearer}"
                    if with_csrf and caller.csrf:
                        form["csrf_token"] = caller.csrf
                        headers["X-CSRFToken"] = caller.csrf
                    body = {"json": form} if url.startswith("/api/") else {"data": form}
                    caller.client.open(
                        url, method=method, query_string=form, headers=headers, **body
                    )
                    after = snapshot.take()
                    checked += 1
                    if method == "POST" and allowed(poster, caller, with_csrf):
                        if after != before:
                            acted.add(f"{poster} as {caller.role}")
                        if poster in RENEW_AFTER:  # it may have logged the caller in or out
                            callers[index] = makers[index]()
                            after = snapshot.take()
                    elif after != before:
                        who = f"{caller.role or 'anonymous'} by {caller.by}"
                        csrf = "with" if with_csrf else "without"
                        changed.append(f"{method} {url} as {who}, {csrf} CSRF token")
                    before = after
    assert checked > 1500
    # the snapshot sees real actions (a trigger publishes, a user is added)
    assert {
        "tasks.trigger as operator",
        "api_tasks.trigger as operator",
        "users.add as admin",
    } <= acted
    assert not changed, "state changed by:\n" + "\n".join(changed)
