"""Rules take any condition by name, with their own thresholds and globs: the conditions other
work added (a new failure group, a missed periodic run, a broker restart) included."""

from __future__ import annotations

from datetime import timedelta

from controlplane.alerting.config import parse_rule
from controlplane.alerting.state import rule_instances
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.failures.groups import AlertingGroup
from controlplane.fleet.alerts import CONDITIONS, Facts
from controlplane.fleet.health import StuckTask
from controlplane.fleet.sample import BrokerState
from controlplane.periodic.views import ScheduleFacts

NOW = utcnow()
SETTINGS = Settings()


def facts() -> Facts:
    ago = lambda s: NOW - timedelta(seconds=s)  # noqa: E731
    return Facts(
        now=NOW, broker=BrokerState(), sampled_at=ago(1), stale=False,
        stuck=[StuckTask("t1", "shop.charge", "payments", "w@h", ago(4000), 4000.0),
               StuckTask("t2", "mail.send", "mail", "w@h", ago(2000), 2000.0)],
        failure_groups=[AlertingGroup(7, "shop.charge", "KeyError", "user <n>", 3, "new",
                                      ago(60)),
                        AlertingGroup(8, "mail.send", "SMTPError", "down", 2, "new", ago(30))],
        schedules=ScheduleFacts(((1, "nightly", ago(90)),), ago(5)),
    )  # fmt: skip


def subjects(spec: dict[str, object]) -> list[str]:
    rule = parse_rule("r", spec, "test")
    return sorted(f.subject for f in rule_instances(rule, facts(), SETTINGS))


def test_every_condition_can_be_named_by_a_rule() -> None:
    for condition in CONDITIONS:
        parse_rule("r", {"condition": condition.name}, "test")  # no error
    assert subjects({"condition": "missed_periodic_run"}) == ["nightly"]
    assert subjects({"condition": "new_failure_group"}) == ["failure group 7", "failure group 8"]


def test_task_and_queue_globs_and_a_rule_s_own_threshold() -> None:
    assert subjects({"condition": "new_failure_group", "tasks": "shop.*"}) == ["failure group 7"]
    assert subjects({"condition": "task_stuck"}) == ["t1", "t2"]  # global: 1800 s
    assert subjects({"condition": "task_stuck", "queues": "pay*"}) == ["t1"]
    assert subjects({"condition": "task_stuck", "tasks": "mail.*"}) == ["t2"]
    longer = {"condition": "task_stuck", "thresholds": {"stuck_task_seconds": 3600}}
    assert subjects(longer) == ["t1"]
    # a condition without a queue never matches a queue glob other than "*"
    assert subjects({"condition": "missed_periodic_run", "queues": "payments"}) == []
    assert subjects({"condition": "no_such_condition"}) == []
