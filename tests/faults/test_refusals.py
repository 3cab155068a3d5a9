"""Rows 14-15 of FAULTS.md: forged or stale CSRF tokens and a viewer calling every mutating
route are refused, each refusal by role is in the action log, and nothing reaches the broker.

The broker spy is redis-server's own command counters (INFO commandstats) on a private
server: a publish is an LPUSH, a broadcast a PUBLISH; neither may move.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import redis
from flask.testing import FlaskClient

from controlplane import users
from controlplane.control import list_actions
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import add_user, csrf_token_of, log_in
from tests.faults.conftest import FaultRedis
from tests.web.test_methods import POST_ROLE


def broker_writes(server: FaultRedis) -> dict[str, int]:
    client = redis.Redis.from_url(server.url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))
            for name in ("lpush", "rpush", "publish", "zadd")}  # fmt: skip


def test_row15_a_viewer_is_refused_on_every_mutating_route_and_each_refusal_is_logged(
    fault_redis: FaultRedis, console_factory: Callable[..., Services]
) -> None:
    services = console_factory(fault_redis.url)
    app = create_app(services, {"TESTING": True})
    add_user(services, "watcher", "viewer")
    console = app.test_client()
    token = log_in(console, "watcher")
    bearer = {"Authorization": f"Bearer {users.create_token(services, 'watcher')}"}
    before = broker_writes(fault_redis)

    refused = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" not in (rule.methods or ()):
            continue
        # the one classification of every POST route (tests/web/test_methods.py)
        needed = POST_ROLE.get(rule.endpoint)
        assert needed is not None, f"{rule.endpoint}: say which role it needs in POST_ROLE"
        if needed in ("anyone", "user", "viewer"):
            continue  # a viewer may
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x", re.sub(r"<int:[^>]+>", "1", rule.rule))
        if path.startswith("/api/"):
            response = console.post(path, json={}, headers=bearer)
        else:
            response = console.post(path, data={"csrf_token": token})
        assert response.status_code == 403, f"{path}: {response.status_code} for a viewer"
        refused.append(path)

    logged = list_actions(services, {"action": "forbidden"}, limit=500).rows
    assert sorted(row.target for row in logged) == sorted(f"POST {path}" for path in refused)
    assert {row.actor for row in logged} == {"watcher"}
    assert all(row.outcome == "refused" and "needs the" in (row.error or "") for row in logged)
    assert broker_writes(fault_redis) == before, "a refused request reached the broker"
    print(f"row 15: {len(refused)} mutating routes refused and logged; nothing published")


def test_row14_missing_wrong_foreign_or_expired_csrf_tokens_publish_nothing(
    fault_redis: FaultRedis, console_factory: Callable[..., Services]
) -> None:
    services = console_factory(fault_redis.url)
    app = create_app(services, {"TESTING": True, "WTF_CSRF_TIME_LIMIT": 1})
    add_user(services, "op1", "operator")
    add_user(services, "op2", "operator")
    mine, theirs = app.test_client(), app.test_client()
    log_in(mine, "op1")
    foreign = log_in(theirs, "op2")
    stale = csrf_token_of(mine.get("/").get_data(as_text=True))
    time.sleep(2.5)  # past WTF_CSRF_TIME_LIMIT (itsdangerous counts whole seconds)
    queue = services.settings.queues[0]
    trigger = {"name": "faults.record", "queue": queue, "args": "[]", "kwargs": "{}"}
    before = broker_writes(fault_redis)

    def post(client: FlaskClient, path: str, token: str | None) -> int:
        data = dict(trigger) if path == "/trigger" else {}
        if token is not None:
            data["csrf_token"] = token
        return client.post(path, data=data).status_code

    for path in ("/trigger", "/tasks/some-id/retry", "/tasks/some-id/revoke"):
        for label, token in (("none", None), ("wrong", "not-a-token"), ("foreign", foreign),
                             ("expired", stale)):  # fmt: skip
            status = post(mine, path, token)
            assert status in (400, 403), f"{path} with {label} token: {status}"
    assert broker_writes(fault_redis) == before, "a request without a valid token published"
