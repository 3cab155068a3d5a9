"""Channel sending against real endpoints: what a failure records never holds the secret,
and text from the fleet cannot add header lines or Slack mentions."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import pytest

from controlplane.alerting import messages
from controlplane.alerting.channels import DeliveryError, send
from controlplane.alerting.config import parse_channel


def body(subject: str) -> dict[str, object]:
    facts = messages.AlertFacts(
        id=1, rule="r", condition="queue_without_consumer", title="Queue without consumer",
        severity="critical", subject=subject, value=1, unit="tasks",
        message="<!channel> 1 task(s) ready & <http://evil|click>", link="/queues",
        state="firing", started_at=datetime.now(UTC), fired_at=None, resolved_at=None,
    )  # fmt: skip
    return messages.body("nid-1", "firing", facts, "c", datetime.now(UTC), None)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def test_a_failed_slack_delivery_never_says_its_secret_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_path = "/services/T0SECRET/B0SECRET/XXXXSECRET"
    channel = parse_channel("chat", {"kind": "slack",
                                     "url": f"http://127.0.0.1:{closed_port()}{secret_path}"},
                            "test")  # fmt: skip
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError) as failed:
        send(channel, body("q"), timeout=2)
    assert "SECRET" not in str(failed.value) and "refused" in str(failed.value).lower()
    assert "SECRET" not in caplog.text and "SECRET" not in repr(channel)


def test_fleet_text_cannot_add_lines_or_mentions() -> None:
    payload = body("q\r\nBcc: victim@example.org")
    assert "\n" not in messages.headline(payload) and "\r" not in messages.headline(payload)
    slack = messages.slack(payload)
    section = slack["blocks"][1]["text"]["text"]
    assert "<!channel>" not in section and "&lt;!channel&gt;" in section
    assert "&amp;" in section and "<http" not in section
