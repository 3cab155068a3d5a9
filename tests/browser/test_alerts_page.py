"""The Alerts page in a real browser: an admin adds a webhook channel (its secret never shown
again) and tests it, adds a rule; the rule fires on a queue without consumer and is
delivered; an operator acknowledges it and silences; an undeliverable notification is
listed; the history page shows the resolved alert."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from controlplane.alerting.config import AlertsConfig
from controlplane.alerting.delivery import deliver_due
from controlplane.alerting.state import advance
from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.fleet.view import fleet_view
from controlplane.services import Services
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
SECRET = "browser-hook-secret-93"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    alerts = AlertsConfig(delivery_attempts=2, delivery_backoff_seconds=0.1,
                          delivery_timeout_seconds=2)  # fmt: skip
    # sample_interval 1 s: the live part of the page polls every 2 s
    return dataclasses.replace(settings, alerts=alerts, sample_interval=1.0)


def sample(services: Services, queue: str, ready: int) -> None:
    with services.transaction() as session:
        write_sample(session, FleetSample(utcnow(), {queue: QueueState(queue, ready=ready)}))


def evaluate(services: Services) -> None:
    """The leader's two jobs, run here so the test decides when."""
    facts = fleet_view(services).facts
    assert facts is not None
    advance(services, facts)
    deliver_due(services)


def test_alerts_page_channels_rules_ack_silence_and_history(
    page_as: Callable[[str], Any], services: Services, httpserver: HTTPServer, unique: str,
) -> None:  # fmt: skip
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    queue = f"bq-alert-{unique}"
    admin = page_as("admin")
    admin.goto(admin.base_url + "/alerts/")
    assert "No rule yet" in admin.inner_text("#rules")

    admin.click("#channels summary")
    form = admin.locator("#channel-form")
    form.locator("input[name=name]").fill("hook")
    form.locator("select[name=kind]").select_option("webhook")
    form.locator("input[name=url]").fill(httpserver.url_for("/hook"))
    form.locator("input[name=secret]").fill(SECRET)
    form.locator("button[type=submit]").click()
    admin.wait_for_url("**/alerts/")
    assert "Saved channel hook" in admin.inner_text("#flash")
    assert SECRET not in admin.content()
    assert "set (hidden)" in admin.inner_text('tr[data-channel="hook"]')

    admin.locator('tr[data-channel="hook"] button.test-channel').click()
    admin.wait_for_url("**/alerts/")
    assert "Test notification delivered to hook" in admin.inner_text("#flash")
    assert json.loads(httpserver.log[0][0].get_data())["event"] == "test"

    admin.click("#rules summary")
    rule = admin.locator("#rule-form")
    rule.locator("input[name=name]").fill("idle-queues")
    rule.locator("select[name=condition]").select_option("queue_without_consumer")
    rule.locator("input[name=queues]").fill("bq-alert-*")
    rule.locator("select[name=severity]").select_option("critical")
    rule.locator("input[name=repeat]").fill("3600")
    rule.locator("button[type=submit]").click()
    admin.wait_for_url("**/alerts/")
    assert "Saved rule idle-queues" in admin.inner_text("#flash")
    assert "bq-alert-*" in admin.inner_text('tr[data-rule="idle-queues"]')

    sample(services, queue, 3)
    evaluate(services)
    events = [json.loads(r.get_data())["event"] for r, _ in httpserver.log]
    assert events == ["test", "firing"]

    operator = page_as("operator")
    operator.goto(operator.base_url + "/alerts/")
    row = operator.locator('tr.alert-state[data-alert="queue_without_consumer"]')
    assert queue in row.inner_text() and row.get_attribute("data-state") == "firing"
    assert operator.locator("#channels").count() == 0  # channels are the admins'
    screenshot(operator, "alerts-page")
    row.locator("button.ack-state").click()
    operator.wait_for_url("**/alerts/")
    assert "Acknowledged" in operator.inner_text("#flash")

    operator.click("#silences summary")
    silence = operator.locator("#silence-form")
    silence.locator("input[name=subject]").fill("bq-alert-*")
    silence.locator("input[name=minutes]").fill("30")
    silence.locator("input[name=reason]").fill("deploying the consumers")
    silence.locator("button[type=submit]").click()
    operator.wait_for_url("**/alerts/")
    assert "deploying the consumers" in operator.inner_text("#silences")

    # the queue drains: resolved; but the channel is down now: undeliverable after retries
    httpserver.clear()
    httpserver.expect_request("/hook", method="POST").respond_with_data("no", status=500)
    sample(services, queue, 0)
    evaluate(services)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(httpserver.log) < 2:
        deliver_due(services)
        time.sleep(0.05)
    # no reload: the live part of the page (htmx, every few seconds) shows it
    operator.locator("#undeliverable tr.undeliverable").wait_for(timeout=20000)
    undeliverable = operator.inner_text("#undeliverable")
    assert "resolved" in undeliverable and "HTTP 500" in undeliverable
    assert "No rule's alert is firing" in operator.inner_text("#alert-states")
    operator.goto(operator.base_url + "/alerts/history")
    assert queue in operator.inner_text("#alert-history")
