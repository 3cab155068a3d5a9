"""Rules and channels as the console keeps them: those of `[controlplane.alerts]` (read-only)
plus those admins saved on the Alerts page or through the API (the database).

A saved channel's secret is written and never read back out: `ChannelView` says only
whether one is set. Saving a channel with an empty secret keeps the one already saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.alerting.config import (
    CHANNEL_FIELDS,
    Channel,
    Rule,
    parse_channel,
    parse_rule,
)
from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.errors import ActionError, NotFound, SettingsError
from controlplane.fleet.alerts import BY_NAME
from controlplane.models import AlertRule, NotificationChannel
from controlplane.services import Services


@dataclass(frozen=True)
class ChannelView:
    """A channel as pages and answers show it: never its secret."""

    name: str
    kind: str
    options: dict[str, Any]
    secret_set: bool
    enabled: bool
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "options": self.options,
                "secret_set": self.secret_set, "enabled": self.enabled,
                "source": self.source}  # fmt: skip


def rule_as_dict(rule: Rule) -> dict[str, Any]:
    condition = BY_NAME.get(rule.condition)
    return {
        "name": rule.name,
        "condition": rule.condition,
        "known_condition": condition is not None,
        "queues": rule.queues,
        "tasks": rule.tasks,
        "severity": rule.severity or (condition.severity if condition else None),
        "for_seconds": rule.for_seconds,
        "repeat_seconds": rule.repeat_seconds,
        "thresholds": dict(rule.thresholds),
        "channels": list(rule.channels),
        "enabled": rule.enabled,
        "source": rule.source,
    }


# ---- reading (helpers inside a transaction, and the services) -------------------------------


def load_rules(services: Services, session: Session) -> list[Rule]:
    """Config rules first, then saved ones (a saved rule may not reuse a config rule's name)."""
    rules = list(services.settings.alerts.rules)
    for row in session.scalars(select(AlertRule).order_by(AlertRule.name)):
        rules.append(
            Rule(
                name=row.name, condition=row.condition, queues=row.queues, tasks=row.tasks,
                severity=row.severity, for_seconds=row.for_seconds,
                repeat_seconds=row.repeat_seconds, thresholds=json.loads(row.thresholds),
                channels=tuple(json.loads(row.channels)), enabled=row.enabled,
                source="console",
            )
        )  # fmt: skip
    return rules


def load_channels(services: Services, session: Session) -> dict[str, Channel]:
    channels = {c.name: c for c in services.settings.alerts.channels}
    for row in session.scalars(select(NotificationChannel)):
        channels.setdefault(
            row.name,
            Channel(row.name, row.kind, json.loads(row.options), row.secret, row.enabled,
                    "console"),
        )  # fmt: skip
    return channels


def list_rules(services: Services) -> list[Rule]:
    with services.transaction() as session:
        return load_rules(services, session)


def list_channels(services: Services) -> list[ChannelView]:
    with services.transaction() as session:
        channels = load_channels(services, session)
    return [_view(c) for c in sorted(channels.values(), key=lambda c: c.name)]


def _view(channel: Channel) -> ChannelView:
    return ChannelView(channel.name, channel.kind, dict(channel.options),
                       bool(channel.secret), channel.enabled, channel.source)  # fmt: skip


# ---- changing (admin actions, written in the action log) -------------------------------------


def save_rule(
    services: Services, actor: str, body: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Create or replace a console rule from a JSON object or a form."""
    fields = body if isinstance(body, dict) else {}
    name = str(fields.get("name") or "")

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            raise ActionError("expected a JSON object")
        spec = {k: v for k, v in body.items() if k != "name"}
        try:
            rule = parse_rule(name, spec, "rule", source="console")
        except SettingsError as exc:
            raise ActionError(str(exc)) from None
        condition = BY_NAME.get(rule.condition)
        if condition is None:
            raise ActionError(f"condition: expected one of {', '.join(BY_NAME)}")
        extra = sorted(set(rule.thresholds) - set(condition.thresholds))
        if extra:
            allowed = ", ".join(condition.thresholds) or "none"
            raise ActionError(f"thresholds: {extra[0]} is not a threshold of "
                              f"{rule.condition} (its thresholds: {allowed})")  # fmt: skip
        if any(r.name == name for r in services.settings.alerts.rules):
            raise ActionError(f"{name} is a rule of the config file: change it there")
        row = session.get(AlertRule, name) or AlertRule(name=name)
        row.condition, row.queues, row.tasks = rule.condition, rule.queues, rule.tasks
        row.severity, row.for_seconds = rule.severity, rule.for_seconds
        row.repeat_seconds, row.enabled = rule.repeat_seconds, rule.enabled
        row.thresholds = json.dumps(dict(rule.thresholds), sort_keys=True)
        row.channels = json.dumps(list(rule.channels))
        row.updated_by, row.updated_at = actor, utcnow()
        session.add(row)
        return 200, {"rule": rule_as_dict(rule)}

    return run_action(services, actor, "alert_rule_save", name[:255] or None, _params(body),
                      perform, idempotency_key)  # fmt: skip


def delete_rule(services: Services, actor: str, name: str) -> ActionResult:
    return _delete(services, actor, AlertRule, name, "alert_rule_delete")


def save_channel(
    services: Services, actor: str, body: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Create or replace a console channel; an empty secret keeps the saved one."""
    fields = body if isinstance(body, dict) else {}
    name = str(fields.get("name") or "")

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            raise ActionError("expected a JSON object")
        if any(c.name == name for c in services.settings.alerts.channels):
            raise ActionError(f"{name} is a channel of the config file: change it there")
        row = session.get(NotificationChannel, name)
        spec = {k: v for k, v in body.items() if k != "name" and v not in (None, "")}
        kind = spec.get("kind")
        secret_key = CHANNEL_FIELDS[kind][1] if kind in CHANNEL_FIELDS else None
        if secret_key and secret_key not in spec and row is not None and row.kind == kind:
            spec[secret_key] = row.secret  # kept: secrets are never sent back to be re-posted
        try:
            channel = parse_channel(name, spec, "channel", source="console")
        except SettingsError as exc:
            raise ActionError(str(exc)) from None
        row = row or NotificationChannel(name=name)
        row.kind, row.options = channel.kind, json.dumps(dict(channel.options), sort_keys=True)
        row.secret, row.enabled = channel.secret, channel.enabled
        row.updated_by, row.updated_at = actor, utcnow()
        session.add(row)
        return 200, {"channel": _view(channel).as_dict()}

    return run_action(services, actor, "channel_save", name[:255] or None, _params(body),
                      perform, idempotency_key)  # fmt: skip


def delete_channel(services: Services, actor: str, name: str) -> ActionResult:
    return _delete(services, actor, NotificationChannel, name, "channel_delete")


def _delete(
    services: Services,
    actor: str,
    model: type[AlertRule] | type[NotificationChannel],
    name: str,
    action: str,
) -> ActionResult:
    """Delete a saved rule or channel (config ones are not in the database: 404)."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        row = session.get(model, name)
        if row is None:
            raise NotFound(f"nothing saved on the console is named {name!r}")
        session.delete(row)
        return 200, {"deleted": name}

    return run_action(services, actor, action, name[:255], {}, perform)


SECRET_KEYS = frozenset(secret for _fields, secret in CHANNEL_FIELDS.values()) | {"csrf_token"}


def _params(body: Any) -> dict[str, Any]:
    """What the action log keeps of a request: never a secret (only whether one was given)."""
    if not isinstance(body, dict):
        return {"body": str(type(body).__name__)}
    kept: dict[str, Any] = {}
    for key, value in list(body.items())[:30]:
        key = str(key)[:64]
        if key in SECRET_KEYS or (key == "url" and body.get("kind") == "slack"):
            kept[key] = "(given)" if value else "(empty)"
        else:
            kept[key] = value if isinstance(value, (int, float, bool)) else str(value)[:500]
    return kept
