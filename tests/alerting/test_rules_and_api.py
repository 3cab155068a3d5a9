"""Rules, silences, acknowledgements and delivery, driven through the state machine over a
seeded sample (a queue with ready tasks and no consumer), and the JSON API by role."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from controlplane.alerting import state as state_module
from controlplane.alerting.delivery import deliver_due
from controlplane.alerting.history import (
    attempts_of,
    list_notifications,
    list_states,
    purge_history,
)
from controlplane.alerting.state import Turn, advance
from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.control.action_log import list_actions
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.fleet.view import fleet_view
from controlplane.models import AlertRule, Silence
from controlplane.services import Services
from controlplane.web.api.openapi import document

SECRET = "hook-secret-api-77"


def idle_queue(services: Services, queue: str, ready: int = 4) -> None:
    """A fresh sample in which `queue` holds ready tasks and no worker consumes it."""
    with services.transaction() as session:
        write_sample(session, FleetSample(utcnow(), {queue: QueueState(queue, ready=ready)}))


def turn(services: Services) -> Turn:
    facts = fleet_view(services).facts
    assert facts is not None
    return advance(services, facts)


def api(client: FlaskClient, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def schema_of(path: str, method: str, status: str) -> dict[str, object]:
    spec = document()
    schema = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
    return {**schema["schema"], "components": spec["components"]}


def setup_hook(client: FlaskClient, admin: dict[str, str], httpserver: HTTPServer) -> None:
    answer = client.post(
        "/api/v1/notification-channels",
        headers=admin,
        json={
            "name": "hook",
            "kind": "webhook",
            "url": httpserver.url_for("/hook"),
            "secret": SECRET,
        },
    )
    assert answer.status_code == 200, answer.get_json()


def test_channels_keep_their_secret_out_of_answers_and_the_log_and_the_test_button_signs(
    services: Services, client: FlaskClient, token_for: Callable[[str], str],
    httpserver: HTTPServer,
) -> None:  # fmt: skip
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    admin, viewer = api(client, token_for("admin")), api(client, token_for("viewer"))
    refused = client.post("/api/v1/notification-channels", headers=viewer,
                          json={"name": "x", "kind": "webhook", "url": "http://x/"})  # fmt: skip
    assert refused.status_code == 403
    assert client.get("/api/v1/notification-channels", headers=viewer).status_code == 403
    setup_hook(client, admin, httpserver)
    # saved again without the secret: the saved one is kept (it is never sent back to re-post)
    again = client.post(
        "/api/v1/notification-channels",
        headers=admin,
        json={"name": "hook", "kind": "webhook", "url": httpserver.url_for("/hook")},
    )
    assert again.status_code == 200
    slack_url = "https://hooks.slack.example/services/T1/B2/SLACKSECRET"
    saved = client.post("/api/v1/notification-channels", headers=admin,
                        json={"name": "chat", "kind": "slack", "url": slack_url})  # fmt: skip
    assert saved.status_code == 200 and "SLACKSECRET" not in saved.get_data(as_text=True)
    listed = client.get("/api/v1/notification-channels", headers=admin)
    shown = listed.get_data(as_text=True)
    assert SECRET not in shown and "SLACKSECRET" not in shown
    [chat, hook] = listed.get_json()["channels"]
    assert chat["secret_set"] is True and chat["options"] == {}
    assert hook["secret_set"] is True and hook["options"] == {"url": httpserver.url_for("/hook")}
    jsonschema.validate(listed.get_json(), schema_of("/notification-channels", "get", "200"))
    logged = list_actions(services, {"action": "channel_save"}).rows
    assert len(logged) == 3
    assert all(SECRET not in (a.params or "") and "SLACKSECRET" not in (a.params or "")
               for a in logged)  # fmt: skip

    tested = client.post("/api/v1/notification-channels/hook/test", headers=admin)
    assert tested.status_code == 200 and tested.get_json()["delivered"] is True
    [(request, _response)] = httpserver.log
    raw = request.get_data()
    assert request.headers["X-Controlplane-Signature"] == "sha256=" + hmac.new(
        SECRET.encode(), raw, hashlib.sha256).hexdigest()  # fmt: skip
    assert json.loads(raw)["event"] == "test"
    assert client.post("/api/v1/notification-channels/nope/test", headers=admin).status_code == 404
    bad = client.post(
        "/api/v1/notification-channels",
        headers=admin,
        json={"name": "bad", "kind": "webhook", "url": "file:///etc/passwd"},
    )
    assert bad.status_code == 400 and "url" in bad.get_json()["error"]


def test_pending_then_firing_once_acked_no_repeat_resolved_once(
    services: Services, client: FlaskClient, token_for: Callable[[str], str],
    httpserver: HTTPServer, unique: str,
) -> None:  # fmt: skip
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    admin, operator = api(client, token_for("admin")), api(client, token_for("operator"))
    setup_hook(client, admin, httpserver)
    queue = f"orders-{unique}"
    rule = {"name": "orders-idle", "condition": "queue_without_consumer", "queues": "orders-*",
            "for": 0.4, "repeat": 0.3, "severity": "warning", "channels": ["hook"]}  # fmt: skip
    assert client.post("/api/v1/alert-rules", headers=operator, json=rule).status_code == 403
    unknown = client.post("/api/v1/alert-rules", headers=admin, json={**rule, "condition": "x"})
    assert unknown.status_code == 400
    wrong = client.post("/api/v1/alert-rules", headers=admin,
                        json={**rule, "thresholds": {"alert_failure_min": 1}})  # fmt: skip
    assert wrong.status_code == 400 and "not a threshold" in wrong.get_json()["error"]
    assert client.post("/api/v1/alert-rules", headers=admin, json=rule).status_code == 200
    listed = client.get("/api/v1/alert-rules", headers=operator).get_json()
    assert [r["name"] for r in listed["rules"]] == ["orders-idle"]

    idle_queue(services, f"other-{unique}")  # not matched by the rule's queue glob
    idle_queue(services, queue)
    assert turn(services).holding == 1
    [pending] = list_states(services)
    assert pending.state == "pending" and pending.subject == queue
    time.sleep(0.5)
    assert turn(services).fired == 1 and turn(services).owed == 0  # once, not per turn
    assert deliver_due(services) == 1

    body = client.get("/api/v1/alerts?state=firing", headers=operator).get_json()
    jsonschema.validate(body, schema_of("/alerts", "get", "200"))
    [state] = body["states"]
    assert (state["rule"], state["state"], state["severity"]) == ("orders-idle", "firing",
                                                                  "warning")  # fmt: skip
    assert client.get("/api/v1/alerts?state=bogus", headers=operator).status_code == 400

    time.sleep(0.35)
    assert turn(services).owed == 1  # the repeat
    acked = client.post(f"/api/v1/alerts/{state['id']}/ack", headers=operator)
    assert acked.status_code == 200 and acked.get_json()["id"] == state["id"]
    assert client.post("/api/v1/alerts/999999/ack", headers=operator).status_code == 404
    time.sleep(0.35)
    assert turn(services).owed == 0  # acknowledged: no more repeats

    with services.transaction() as session:  # drained
        write_sample(session, FleetSample(utcnow(), {queue: QueueState(queue, ready=0)}))
    assert turn(services) == Turn(holding=0, fired=0, resolved=1, owed=1)
    deliver_due(services)
    events = [json.loads(r.get_data())["event"] for r, _ in httpserver.log]
    assert events == ["firing", "repeat", "resolved"]
    history = client.get("/api/v1/alerts?state=resolved", headers=operator).get_json()
    assert [s["id"] for s in history["states"]] == [state["id"]]

    # retention: a resolved alert older than the cutoff goes, with what was sent about it
    assert purge_history(services, utcnow() - timedelta(hours=1)) == 0
    assert purge_history(services, utcnow() + timedelta(seconds=1)) == 1
    assert list_states(services, "all") == [] and list_notifications(services) == []


def test_a_silence_holds_notifications_until_it_ends(
    services: Services, client: FlaskClient, token_for: Callable[[str], str],
    httpserver: HTTPServer, unique: str,
) -> None:  # fmt: skip
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    admin, operator = api(client, token_for("admin")), api(client, token_for("operator"))
    viewer = api(client, token_for("viewer"))
    setup_hook(client, admin, httpserver)
    client.post("/api/v1/alert-rules", headers=admin,
                json={"name": "idle", "condition": "queue_without_consumer"})  # fmt: skip
    silence = {"alert": "queue_without_consumer", "subject": f"*{unique}", "minutes": 30,
               "reason": "maintenance window"}  # fmt: skip
    assert client.post("/api/v1/silences", headers=viewer, json=silence).status_code == 403
    no_reason = client.post("/api/v1/silences", headers=operator, json={**silence, "reason": ""})
    assert no_reason.status_code == 400
    keyed = {**operator, "Idempotency-Key": f"silence-{unique}"}
    made = client.post("/api/v1/silences", headers=keyed, json=silence)
    assert made.status_code == 201, made.get_json()
    again = client.post("/api/v1/silences", headers=keyed, json=silence)  # replayed, not made
    assert again.get_json()["silence"]["id"] == made.get_json()["silence"]["id"]
    assert [s["reason"] for s in client.get("/api/v1/silences", headers=viewer).get_json()[
        "silences"]] == ["maintenance window"]  # fmt: skip

    idle_queue(services, f"q-{unique}")
    assert turn(services).fired == 1
    assert turn(services).owed == 0 and not list_notifications(services)  # silenced
    with services.transaction() as session:  # the silence ends
        for row in session.query(Silence):
            row.ends_at = utcnow() - timedelta(seconds=1)
    idle_queue(services, f"q-{unique}")
    assert turn(services).owed == 1  # still firing, now announced


def test_a_channel_that_is_down_is_retried_with_backoff_then_listed_undeliverable(
    services: Services, client: FlaskClient, token_for: Callable[[str], str],
    httpserver: HTTPServer, unique: str,
) -> None:  # fmt: skip
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=503)
    admin, viewer = api(client, token_for("admin")), api(client, token_for("viewer"))
    setup_hook(client, admin, httpserver)
    client.post("/api/v1/alert-rules", headers=admin,
                json={"name": "idle", "condition": "queue_without_consumer"})  # fmt: skip
    idle_queue(services, f"q-{unique}")
    assert turn(services).owed == 1
    attempts = services.settings.alerts.delivery_attempts
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and list_notifications(services, "failed") == []:
        deliver_due(services)  # each failure waits backoff * 2**n before the next try
        time.sleep(0.05)
    [failed] = list_notifications(services, "failed")
    assert failed.attempts == attempts and "HTTP 503" in (failed.last_error or "")
    tries = attempts_of(services, failed.id)
    assert [t.number for t in tries] == list(range(1, attempts + 1))
    assert not any(t.ok for t in tries) and len(httpserver.log) == attempts
    backoff = services.settings.alerts.delivery_backoff_seconds
    for n, (before, after) in enumerate(zip(tries, tries[1:], strict=False)):
        assert before.at and after.at
        assert (after.at - before.at).total_seconds() >= backoff * 2**n  # doubling
    listed = client.get("/api/v1/notifications?status=failed", headers=viewer).get_json()
    assert [n["id"] for n in listed["notifications"]] == [failed.id]


def test_the_alerts_page_forms_want_their_role_and_a_csrf_token(
    client_as: Callable[[str], FlaskClient],
) -> None:
    viewer, operator, admin = client_as("viewer"), client_as("operator"), client_as("admin")
    rule = {"name": "r1", "condition": "queue_without_consumer"}
    assert viewer.get("/alerts/").status_code == 200
    assert "Add or change a rule" not in viewer.get("/alerts/").get_data(as_text=True)
    token = {"csrf_token": viewer.csrf_token}  # type: ignore[attr-defined]
    assert viewer.post("/alerts/rules", data={**rule, **token}).status_code == 403
    assert viewer.post("/alerts/silences", data={"reason": "x", **token}).status_code == 403
    token = {"csrf_token": operator.csrf_token}  # type: ignore[attr-defined]
    assert operator.post("/alerts/channels", data={"name": "c", **token}).status_code == 403
    assert admin.post("/alerts/rules", data=rule).status_code == 400  # no CSRF token
    token = {"csrf_token": admin.csrf_token}  # type: ignore[attr-defined]
    saved = admin.post("/alerts/rules", data={**rule, "enabled": "on", **token})
    assert saved.status_code == 302
    page = admin.get("/alerts/").get_data(as_text=True)
    assert "Saved rule r1" in page and 'data-rule="r1"' in page
    live = admin.get("/alerts/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="alert-states"' in live and 'id="rules"' not in live  # only the live part


def test_a_condition_that_raises_neither_stops_the_others_nor_resolves_its_alerts(
    services: Services, unique: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with services.transaction() as session:
        for name in ("idle", "also-idle"):
            session.add(AlertRule(name=name, condition="queue_without_consumer", queues="*",
                                  tasks="*", for_seconds=0, repeat_seconds=0, thresholds="{}",
                                  channels="[]", enabled=True, updated_by="t",
                                  updated_at=utcnow()))  # fmt: skip
    idle_queue(services, f"q-{unique}")
    assert turn(services).fired == 2
    real = state_module.rule_instances

    def failing(rule: Any, facts: Any, settings: Any) -> Any:
        if rule.name == "idle":
            raise RuntimeError("a bug in a condition")
        return real(rule, facts, settings)

    monkeypatch.setattr(state_module, "rule_instances", failing)
    assert turn(services) == Turn(holding=1, fired=0, resolved=0, owed=0)
    assert sorted(s.rule for s in list_states(services, "firing")) == ["also-idle", "idle"]
