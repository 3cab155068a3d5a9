"""A real condition reaches people: a queue with no consumer, sampled by a real scheduler,
fires a rule, and a webhook (signed), a Slack-compatible endpoint and an SMTP server
(STARTTLS, login) each receive one firing and, once the queue is drained, one resolved
notification, each with its stable id."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from pytest_httpserver import HTTPServer

from controlplane import db
from controlplane.alerting.channels import ID_HEADER, SIGNATURE_HEADER
from controlplane.alerting.config import AlertsConfig, parse_channel, parse_rule
from controlplane.alerting.history import list_notifications, list_states
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.processes.leader import LocalLeaderLock
from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import Services, build_services
from tests.alerting.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer
from tests.conftest import wait_for

SECRET = "hook-secret-4f9a"


def alerts_config(queue: str, httpserver: HTTPServer, smtp: SmtpServer) -> AlertsConfig:
    return AlertsConfig(
        rules=(parse_rule("idle-queue", {"condition": "queue_without_consumer",
                                         "queues": "alert-*", "for": 0.5,
                                         "severity": "critical"}, "test"),),
        channels=(
            parse_channel("hook", {"kind": "webhook", "url": httpserver.url_for("/hook"),
                                   "secret": SECRET}, "test"),
            parse_channel("chat", {"kind": "slack", "url": httpserver.url_for("/slack")}, "test"),
            parse_channel("mail", {"kind": "email", "host": smtp.host, "port": smtp.port,
                                   "username": SMTP_USER, "password": SMTP_PASSWORD,
                                   "sender": "cp@example.org", "to": ["ops@example.org"],
                                   "ca_file": smtp.ca_file}, "test"),
        ),
        delivery_backoff_seconds=0.2,
        delivery_timeout_seconds=5,
        public_url="https://console.example.org",
    )  # fmt: skip


@pytest.fixture
def alert_services(
    redis_server: EmbeddedRedis, sqlite_url: str, unique: str, httpserver: HTTPServer,
    smtp_server: SmtpServer,
) -> Iterator[Services]:  # fmt: skip
    queue = f"alert-{unique}"
    settings = Settings(
        broker_url=redis_server.url, database_url=sqlite_url, queues=(queue,),
        secret_key="test-secret-key", inspect_timeout=0.3, sample_interval=0.3,
        alerts=alerts_config(queue, httpserver, smtp_server),
    )  # fmt: skip
    services = build_services(settings)
    db.upgrade(services.engine)
    yield services
    redis.Redis.from_url(redis_server.url).delete(queue)
    services.close()


def received(httpserver: HTTPServer, path: str) -> list[Any]:
    return [request for request, _response in httpserver.log if request.path == path]


def test_a_queue_without_consumer_notifies_every_channel_once_then_resolves(
    alert_services: Services, httpserver: HTTPServer, smtp_server: SmtpServer,
    redis_server: EmbeddedRedis,
) -> None:  # fmt: skip
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    [queue] = alert_services.settings.queues
    alert_services.celery.send_task("worker_tasks.tasks.add", (1, 2), queue=queue)
    scheduler = FleetScheduler(alert_services, LocalLeaderLock("test")).start()
    try:

        def each_channel(count: int) -> bool:
            return (len(received(httpserver, "/hook")) == count
                    and len(received(httpserver, "/slack")) == count
                    and len(smtp_server.received()) == count)  # fmt: skip

        wait_for(lambda: each_channel(1), timeout=30, what="a notification on each channel")
        [hook] = received(httpserver, "/hook")
        raw = hook.get_data()
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert hook.headers[SIGNATURE_HEADER] == expected
        body = json.loads(raw)
        assert hook.headers[ID_HEADER] == body["id"] and body["event"] == "firing"
        assert body["version"] == 1 and body["channel"] == "hook"
        alert = body["alert"]
        assert (alert["condition"], alert["subject"], alert["severity"], alert["state"]) == (
            "queue_without_consumer",
            queue,
            "critical",
            "firing",
        )
        assert alert["rule"] == "idle-queue" and alert["value"] == 1
        assert alert["link"] == f"https://console.example.org/queues#queue-{queue}"

        [chat] = received(httpserver, "/slack")
        slack = json.loads(chat.get_data())
        assert slack["text"].startswith("[FIRING critical] Queue without consumer")
        assert slack["blocks"][0]["type"] == "header" and queue in slack["text"]

        [mail] = smtp_server.received()
        assert mail["Subject"] == f"[FIRING critical] Queue without consumer: {queue}"
        assert mail[ID_HEADER] and mail["Message-ID"] == f"<{mail[ID_HEADER]}@controlplane>"
        assert smtp_server.logins and "ready and no worker consumes" in mail.get_payload()

        # evaluations go on every 0.3 s: still one notification per channel (per firing)
        wait_for(lambda: len(list_states(alert_services, "all")) == 1, timeout=5)
        firing_ids = {hook.headers[ID_HEADER], chat.headers[ID_HEADER], mail[ID_HEADER]}
        assert len(firing_ids) == 3

        redis.Redis.from_url(redis_server.url).delete(queue)  # drained: the alert clears
        wait_for(lambda: each_channel(2), timeout=30, what="a resolved notification on each")
        resolved = json.loads(received(httpserver, "/hook")[1].get_data())
        assert resolved["event"] == "resolved" and resolved["alert"]["state"] == "resolved"
        assert resolved["alert"]["id"] == alert["id"] and resolved["id"] not in firing_ids
        assert smtp_server.received()[1]["Subject"].startswith("[RESOLVED critical]")
    finally:
        scheduler.stop()
    [state] = list_states(alert_services, "resolved")
    assert state.fired_at and state.resolved_at and state.notified_at
    sent = list_notifications(alert_services)
    assert sorted((n.channel, n.event, n.status, n.attempts) for n in sent) == [
        ("chat", "firing", "delivered", 1), ("chat", "resolved", "delivered", 1),
        ("hook", "firing", "delivered", 1), ("hook", "resolved", "delivered", 1),
        ("mail", "firing", "delivered", 1), ("mail", "resolved", "delivered", 1),
    ]  # fmt: skip
    assert len(received(httpserver, "/hook")) == 2  # nothing more after the resolve
