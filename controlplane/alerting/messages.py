"""What a notification says: the webhook's JSON body (the documented schema, version 1), and
the same rendered as Slack Block Kit and as an email.

The body is built once, when the notification is owed, and stored: every attempt (and a new
leader's) sends the same bytes with the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMA_VERSION = 1
EVENTS = ("firing", "repeat", "resolved", "test")


@dataclass(frozen=True)
class AlertFacts:
    """The alert a notification is about, as the body carries it."""

    id: int | None
    rule: str
    condition: str
    title: str
    severity: str
    subject: str
    value: float
    unit: str
    message: str
    link: str
    state: str
    started_at: datetime | None
    fired_at: datetime | None
    resolved_at: datetime | None


def body(
    notification_id: str,
    event: str,
    alert: AlertFacts,
    channel: str,
    created_at: datetime,
    public_url: str | None,
) -> dict[str, Any]:
    """The webhook body (README "Webhook body"): stable keys, ISO 8601 UTC times."""
    link = alert.link
    if public_url and link.startswith("/"):
        link = public_url.rstrip("/") + link
    return {
        "version": SCHEMA_VERSION,
        "id": notification_id,
        "event": event,
        "channel": channel,
        "created_at": created_at.isoformat(),
        "alert": {
            "id": alert.id,
            "rule": alert.rule,
            "condition": alert.condition,
            "title": alert.title,
            "severity": alert.severity,
            "state": alert.state,
            "subject": alert.subject,
            "value": round(alert.value, 3),
            "unit": alert.unit,
            "message": alert.message,
            "link": link,
            "started_at": _iso(alert.started_at),
            "fired_at": _iso(alert.fired_at),
            "resolved_at": _iso(alert.resolved_at),
        },
    }


def headline(payload: dict[str, Any]) -> str:
    """One line: `[FIRING critical] Queue without consumer: reports`."""
    alert = payload["alert"]
    event = payload["event"]
    word = {"firing": "FIRING", "repeat": "STILL FIRING", "resolved": "RESOLVED", "test": "TEST"}
    label = f"{word.get(event, event.upper())} {alert['severity']}"
    return _one_line(f"[{label}] {alert['title']}: {alert['subject']}")


def text(payload: dict[str, Any]) -> str:
    """The plain-text message (email body, Slack fallback)."""
    alert = payload["alert"]
    lines = [
        headline(payload),
        "",
        alert["message"],
        "",
        f"rule: {alert['rule']} (condition {alert['condition']})",
        f"since: {alert['started_at'] or '-'}",
    ]
    if alert["resolved_at"]:
        lines.append(f"resolved: {alert['resolved_at']}")
    lines += [f"link: {alert['link']}", f"notification id: {payload['id']}"]
    return "\n".join(lines)


def slack(payload: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook body: Block Kit sections with the text as fallback."""
    alert = payload["alert"]
    return {
        "text": headline(payload),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline(payload)[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(alert["message"])}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _mrkdwn(
                            f"rule {alert['rule']} · {alert['link']} · id {payload['id']}"
                        ),
                    }
                ],
            },
        ],
    }


def _one_line(value: str) -> str:
    """No control characters: a subject from the fleet must not add lines (email headers)."""
    return "".join(c if c.isprintable() else " " for c in value)[:300]


def _mrkdwn(value: str) -> str:
    """Slack's three control characters escaped, so text from tasks cannot ping or link."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:2900]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
