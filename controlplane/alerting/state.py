"""The leader's turn at the rules: pending -> firing -> resolved, and the notifications owed.

For every enabled rule, its condition (fleet/alerts.py, by name) is evaluated over the same
facts as the banner with the rule's threshold overrides, and its instances are kept when
they match the rule's queue and task-name globs. Each (rule, condition, subject) has at
most one open row: it is pending from the first evaluation that sees it, firing once it has
held for the rule's `for`, resolved at the first evaluation that does not see it.

One notification per firing, not per evaluation: a firing row owes its "firing" message once
(`notified_at`), then a "repeat" every `repeat` seconds while it holds, unacknowledged and
unsilenced; a notified row owes a "resolved" message when it clears. The rows and the
notifications they owe are written in one transaction, so a leader that dies after it
leaves a new leader with exactly the messages still to send.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from controlplane.alerting import messages
from controlplane.alerting.config import Channel, Rule
from controlplane.alerting.silences import SilenceView, active_silences
from controlplane.alerting.store import load_channels, load_rules
from controlplane.clock import as_utc
from controlplane.config import Settings
from controlplane.fleet.alerts import BY_NAME, Facts, Firing, load_acks
from controlplane.models import AlertState, Notification
from controlplane.services import Services

log = logging.getLogger(__name__)

OPEN = ("pending", "firing")


@dataclass(frozen=True)
class Turn:
    """What one evaluation did (for the log and the tests)."""

    holding: int = 0
    fired: int = 0
    resolved: int = 0
    owed: int = 0  # notifications written


def rule_instances(rule: Rule, facts: Facts, settings: Settings) -> list[Firing]:
    """The instances of the rule's condition, with its thresholds, that match its globs."""
    condition = BY_NAME.get(rule.condition)
    if condition is None:
        return []
    overrides = {
        name: type(getattr(settings, name))(value)
        for name, value in rule.thresholds.items()
        if name in condition.thresholds
    }
    tuned = dataclasses.replace(settings, **overrides) if overrides else settings
    return [f for f in condition.evaluate(facts, tuned) if matches(rule, f)]


def matches(rule: Rule, firing: Firing) -> bool:
    """A glob other than "*" needs the instance to say its queue (or task name)."""
    for pattern, value in ((rule.queues, firing.queue), (rule.tasks, firing.task_name)):
        if pattern != "*" and (value is None or not fnmatchcase(value, pattern)):
            return False
    return True


def advance(services: Services, facts: Facts) -> Turn:
    """Move every alert state along and write the notifications owed (one transaction)."""
    with services.transaction() as session:
        return _advance(services, session, facts)


def _advance(services: Services, session: Session, facts: Facts) -> Turn:
    settings, now = services.settings, facts.now
    rules = [rule for rule in load_rules(services, session) if rule.enabled]
    for rule in rules:
        if rule.condition not in BY_NAME:
            log.warning("alert rule %s: no condition named %r", rule.name, rule.condition)
    owed = _Owed(session, services, load_channels(services, session), now)
    acks = load_acks(session)
    silences = active_silences(session, now)
    open_rows = {
        (row.rule, row.alert, row.subject): row
        for row in session.scalars(select(AlertState).where(AlertState.state.in_(OPEN)))
    }
    seen: set[tuple[str, str, str]] = set()
    broken: set[str] = set()  # rules whose check raised: their alerts stay as they were
    fired = 0
    for rule in rules:
        try:
            instances = rule_instances(rule, facts, settings)
        except Exception:
            log.exception("alert rule %s: its condition %r failed", rule.name, rule.condition)
            broken.add(rule.name)
            continue
        for firing in instances:
            key = (rule.name, firing.alert, firing.subject[:255])
            if key in seen:
                continue
            seen.add(key)
            row = open_rows.get(key) or _open(session, rule, firing, now)
            _refresh(row, rule, firing, now)
            started = as_utc(row.started_at)
            assert started is not None
            if row.state == "pending" and (now - started).total_seconds() >= rule.for_seconds:
                row.state, row.fired_at = "firing", now
                fired += 1
            if row.state == "firing" and not _quiet(key[1:], acks, silences):
                notified = as_utc(row.notified_at)
                if notified is None:
                    owed.add(row, rule, "firing")
                elif _due(rule.repeat_seconds, notified, now):
                    owed.add(row, rule, "repeat")
    resolved = 0
    by_name = {rule.name: rule for rule in rules}
    for key, row in open_rows.items():
        if key in seen or row.rule in broken:
            continue
        if row.state == "pending":  # it never fired: nobody was told, nothing to keep
            session.execute(delete(AlertState).where(AlertState.id == row.id))
            continue
        row.state, row.resolved_at = "resolved", now
        resolved += 1
        if row.notified_at is not None:
            owed.add(row, by_name.get(row.rule), "resolved")
    return Turn(len(seen), fired, resolved, owed.count)


def _due(repeat_seconds: float, notified: datetime, now: datetime) -> bool:
    return bool(repeat_seconds) and (now - notified).total_seconds() >= repeat_seconds


def _open(session: Session, rule: Rule, firing: Firing, now: datetime) -> AlertState:
    row = AlertState(rule=rule.name, alert=firing.alert, subject=firing.subject[:255],
                     state="pending", started_at=now, last_seen_at=now)  # fmt: skip
    _refresh(row, rule, firing, now)
    session.add(row)
    session.flush()  # its id goes into the notifications' bodies
    return row


def _refresh(row: AlertState, rule: Rule, firing: Firing, now: datetime) -> None:
    row.severity = rule.severity or firing.severity
    row.title, row.message = firing.title[:255], firing.message[:2000]
    row.value, row.unit, row.link = float(firing.value), firing.unit[:16], firing.link[:1024]
    row.last_seen_at = now


def _quiet(
    key: tuple[str, str],
    acks: Mapping[tuple[str, str], object],
    silences: list[SilenceView],
) -> bool:
    """Acknowledged (someone has seen it) or silenced: no message for now."""
    return key in acks or any(s.matches(*key) for s in silences)


class _Owed:
    """Writes the notifications a row owes, one per channel of its rule."""

    def __init__(
        self, session: Session, services: Services, channels: dict[str, Channel], now: datetime
    ) -> None:
        self.session, self.now, self.count = session, now, 0
        self.channels = channels
        self.public_url = services.settings.alerts.public_url

    def add(self, row: AlertState, rule: Rule | None, event: str) -> None:
        names = list(rule.channels) if rule and rule.channels else sorted(self.channels)
        facts = alert_facts(row)
        for name in names:
            channel = self.channels.get(name)
            if channel is None or not channel.enabled:
                log.warning("alert rule %s: channel %r is missing or disabled", row.rule, name)
                continue
            notification_id = str(uuid.uuid4())
            body = messages.body(notification_id, event, facts, name, self.now, self.public_url)
            self.session.add(
                Notification(id=notification_id, alert_state_id=row.id, channel=name,
                             event=event, payload=json.dumps(body), status="pending",
                             attempts=0, next_attempt_at=self.now, created_at=self.now)
            )  # fmt: skip
            self.count += 1
        if event != "resolved":
            row.notified_at = self.now


def alert_facts(row: AlertState) -> messages.AlertFacts:
    return messages.AlertFacts(
        id=row.id, rule=row.rule, condition=row.alert, title=row.title, severity=row.severity,
        subject=row.subject, value=row.value, unit=row.unit, message=row.message,
        link=row.link, state=row.state, started_at=as_utc(row.started_at),
        fired_at=as_utc(row.fired_at), resolved_at=as_utc(row.resolved_at),
    )  # fmt: skip
