"""The alert conditions (fleet/alerts.py): each fires on its trigger and not below it, with its
number and a link; the issue's "All clear during trouble" scene fires; acknowledgements and
forgetting a worker go through the action log; alerts.yml says the same thresholds."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from controlplane.broker import Pause, QueueState
from controlplane.config import QueueScaling, Settings
from controlplane.control.action_log import list_actions
from controlplane.control.alerts import acknowledge_alert, forget_worker
from controlplane.failures.groups import AlertingGroup
from controlplane.fleet import alerts
from controlplane.fleet.alerts import CONDITIONS, Facts, evaluate, wait_target, wait_targets
from controlplane.fleet.health import IngestGap, StuckTask, WorkerHealth
from controlplane.fleet.sample import BrokerState, FleetSample, write_sample
from controlplane.fleet.view import fleet_view, settle_alerts
from controlplane.models import AlertAck, Task, Worker
from controlplane.periodic.views import ScheduleFacts
from controlplane.services import Services

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SETTINGS = Settings()
ROOT = Path(__file__).resolve().parents[2]


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def worker(name: str, status: str, age: float = 0.0, shutdown: bool = False) -> WorkerHealth:
    return WorkerHealth(
        hostname=name, status=status, last_seen=ago(age), heartbeat_age=age,  # type: ignore[arg-type]
        interval=2.0, shutdown=shutdown, concurrency=2, active=0, processed=0, queues=("q",),
        registered=(), software=None, pid=None, loadavg=None,
    )  # fmt: skip


def healthy(**changes: object) -> Facts:
    """A fleet where nothing is wrong; `changes` make one thing wrong."""
    facts = Facts(
        now=NOW,
        broker=BrokerState(),
        sampled_at=ago(2),
        stale=False,
        queues=[QueueState("q", ready=3, reserved=1, consumers=1, oldest_waiting_at=ago(5))],
        workers=[worker("w@h", "online")],
        backlog_history={"q": (4, 4, 3, 5, 4, 4)},
        outcomes={"q": (100, 9)},
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


# condition -> (facts on which it fires, its subject, its number; facts just below the threshold)
CASES: dict[str, tuple[Facts, str, float, Facts]] = {
    "broker_unreachable": (
        healthy(broker=BrokerState("ConnectionError: refused", ago(40))), "broker", 40,
        healthy(broker=BrokerState()),
    ),
    "sampling_stopped": (healthy(stale=True, sampled_at=ago(90)), "sampler", 90, healthy()),
    "queue_without_consumer": (
        healthy(queues=[QueueState("q", ready=70, consumers=0)]), "q", 70,
        healthy(queues=[QueueState("q", ready=0, scheduled=3, consumers=0)]),
    ),
    "worker_offline": (
        healthy(workers=[worker("dead@h", "offline", age=600)]), "dead@h", 600,
        healthy(workers=[worker("dead@h", "offline", age=600, shutdown=True),
                         worker("old@h", "offline", age=6 * 3600 + 1)]),
    ),
    "queue_wait_over_target": (
        healthy(queues=[QueueState("q", ready=70, consumers=1, oldest_waiting_at=ago(62))]),
        "q", 62,
        healthy(queues=[QueueState("q", ready=70, consumers=1, oldest_waiting_at=ago(29))]),
    ),
    "backlog_growing": (
        healthy(backlog_history={"q": (30, 38, 38, 50, 61, 70)}), "q", 70,
        healthy(backlog_history={"q": (30, 38, 37, 50, 61, 70), "r": (1, 2, 3, 4, 5, 9)}),
    ),
    "failure_ratio": (
        healthy(outcomes={"q": (4, 16)}), "q", 0.8,
        healthy(outcomes={"q": (90, 10), "r": (0, 4)}),
    ),
    "worker_late": (
        healthy(workers=[worker("slow@h", "late", age=5)]), "slow@h", 5,
        healthy(workers=[worker("slow@h", "online", age=3)]),
    ),
    "task_stuck": (
        healthy(stuck=[StuckTask("t1", "proj.slow", "q", "w@h", ago(4000), 4000)]), "t1", 4000,
        healthy(stuck=[]),
    ),
    "ingest_gap": (
        healthy(gaps=[IngestGap(ago(120), ago(60), "ingester restarted", 42, "redis")]),
        "redis 2026-01-01 11:58:00", 42, healthy(gaps=[]),
    ),
    "broker_restarted": (
        healthy(broker=BrokerState(restarts=1, restarted_at=ago(60), restart_waiting=3)),
        "broker", 3,
        healthy(broker=BrokerState(restarts=1, restarted_at=ago(6 * 3600 + 1),
                                   restart_waiting=3)),
    ),
    "new_failure_group": (
        healthy(failure_groups=[AlertingGroup(7, "shop.charge", "KeyError", "user <n>", 3,
                                              "regression", ago(60))]),
        "failure group 7", 3, healthy(failure_groups=[]),
    ),
    "missed_periodic_run": (
        healthy(schedules=ScheduleFacts(((1, "nightly", ago(90)),), ago(5))), "nightly", 90,
        healthy(schedules=ScheduleFacts((), ago(5))),
    ),
}  # fmt: skip


def test_every_condition_has_a_case_here() -> None:
    assert set(CASES) == {c.name for c in CONDITIONS}
    assert len({c.prometheus_alert for c in CONDITIONS}) == len(CONDITIONS)


def test_beat_down_is_one_alert_not_one_per_schedule() -> None:
    # fifty missed, nothing sent since the first miss (a daily one not due yet is not missed)
    every = ScheduleFacts(tuple((n, f"s{n}", ago(60 + n)) for n in range(50)), ago(200))
    found = evaluate(healthy(schedules=every), SETTINGS)
    assert [(f.alert, f.subject, f.value) for f in found] == [("missed_periodic_run", "beat", 50)]
    assert "is celery beat running" in found[0].message
    # two missed while another schedule ran after them: beat is up, two alerts
    some = ScheduleFacts(tuple((n, f"s{n}", ago(60)) for n in range(2)), ago(10))
    assert [f.subject for f in evaluate(healthy(schedules=some), SETTINGS)] == ["s0", "s1"]


def test_a_healthy_fleet_is_all_clear() -> None:
    assert evaluate(healthy(), SETTINGS) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_condition_fires_on_its_trigger_with_its_number_and_a_link(name: str) -> None:
    firing, subject, value, quiet = CASES[name]
    found = evaluate(firing, SETTINGS)
    assert [(f.alert, f.subject) for f in found] == [(name, subject)]
    [alert] = found
    assert alert.value == pytest.approx(value)
    assert alert.link.startswith("/") and alert.message
    assert alert.title == alerts.BY_NAME[name].title
    assert evaluate(quiet, SETTINGS) == [], f"{name} fired below its threshold"


def test_the_issue_scene_is_not_all_clear() -> None:
    """70 waiting for over a minute, 3.2 failed/min against 0.8 succeeded/min."""
    scene = healthy(
        queues=[QueueState("reports", ready=70, reserved=0, consumers=1,
                           oldest_waiting_at=ago(62))],
        backlog_history={"reports": (20, 31, 40, 52, 60, 70)},
        outcomes={"reports": (4, 16)},
    )  # fmt: skip
    found = {f.alert: f for f in evaluate(scene, SETTINGS)}
    assert set(found) == {"queue_wait_over_target", "backlog_growing", "failure_ratio"}
    wait = found["queue_wait_over_target"]
    assert "has waited 62 s (target 30 s)" in wait.message
    assert wait.link == "/queues#queue-reports"
    assert found["failure_ratio"].link == "/tasks?state=FAILURE&queue=reports"
    assert "80% of the 20 task(s)" in found["failure_ratio"].message


def test_thresholds_are_settings_and_a_queue_override_moves_the_wait_target() -> None:
    facts = healthy(queues=[QueueState("q", ready=9, consumers=1, oldest_waiting_at=ago(62))])
    patient = dataclasses.replace(
        SETTINGS, autoscale_queues=(QueueScaling("q", target_wait_seconds=120),)
    )
    assert evaluate(facts, patient) == []
    lost = healthy(workers=[worker("dead@h", "offline", age=2 * 3600)])
    assert evaluate(lost, dataclasses.replace(SETTINGS, lost_worker_alert_hours=1)) == []
    assert evaluate(lost, SETTINGS)[0].alert == "worker_offline"
    strict = dataclasses.replace(SETTINGS, alert_failure_ratio=0.05)
    assert [f.alert for f in evaluate(healthy(), strict)] == ["failure_ratio"]


def test_each_queue_s_wait_target_is_its_override_or_the_global_one() -> None:
    """`wait_targets` (one per queue a scrape shows) answers as `wait_target` does."""
    assert wait_targets(SETTINGS, ["q", "r"]) == {"q": 30.0, "r": 30.0}
    patient = dataclasses.replace(
        SETTINGS, autoscale_queues=(QueueScaling("q", target_wait_seconds=120),)
    )
    assert wait_targets(patient, ["q", "r"]) == {"q": 120.0, "r": 30.0}
    assert wait_targets(patient, ["q", "r"]) == {n: wait_target(patient, n) for n in "qr"}


def test_a_paused_queue_waits_and_grows_on_purpose_without_an_alert() -> None:
    paused = Pause("alice", ago(600))
    facts = healthy(
        queues=[QueueState("q", ready=70, consumers=0, oldest_waiting_at=ago(600), pause=paused)],
        backlog_history={"q": (30, 38, 38, 50, 61, 70)},
    )
    assert evaluate(facts, SETTINGS) == []


def test_acknowledged_instances_still_hold_and_sort_after_the_open_ones() -> None:
    facts = healthy(
        queues=[QueueState("q", ready=70, consumers=0)],
        workers=[worker("slow@h", "late", age=5)],
    )
    acks = {("queue_without_consumer", "q"): ("alice", ago(10))}
    found = evaluate(facts, SETTINGS, acks)
    assert [(f.alert, f.acknowledged) for f in found] == [
        ("worker_late", False), ("queue_without_consumer", True),
    ]  # fmt: skip
    assert found[1].acked_by == "alice" and found[1].as_dict()["acknowledged"]["by"] == "alice"


def test_alerts_yml_names_every_condition_with_the_same_thresholds() -> None:
    groups = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())["groups"]
    rules = {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}
    for condition in CONDITIONS:
        assert condition.prometheus_alert in rules, condition.name
    gauge = re.compile(r'controlplane_alerts_firing\{alert="(\w+)"\}')
    for condition in CONDITIONS:
        named = gauge.findall(rules[condition.prometheus_alert])
        assert named in ([], [condition.name]), condition.name
    failure = rules["CeleryTaskFailureRatioHigh"]
    window = f"[{SETTINGS.alert_failure_window_seconds / 60:g}m]"
    assert failure.count(window) == 4
    assert f"> {SETTINGS.alert_failure_ratio:g}" in failure
    assert f">= {SETTINGS.alert_failure_min}" in failure
    assert "controlplane_queue_target_wait_seconds" in rules["CeleryQueueWaitTooLong"]
    assert "controlplane_queue_ready" in rules["CeleryQueueNoConsumer"]


# ---- from the database --------------------------------------------------------------------------


def test_backlog_history_reads_the_last_samples_and_restarts_after_a_hole(
    services: Services,
) -> None:
    with services.transaction() as session:
        for n in range(8):
            queues = {"a": QueueState("a", ready=10 + n, reserved=1)}
            if n != 5:
                queues["b"] = QueueState("b", ready=n)
            write_sample(session, FleetSample(ago(40 - 5 * n), queues))
    with services.transaction() as session:
        history = alerts.backlog_history(session, 6)
    assert history["a"] == (13, 14, 15, 16, 17, 18)
    assert history["b"] == (6, 7)


def test_outcomes_count_what_finished_in_the_window_per_queue(services: Services) -> None:
    now = datetime.now(UTC)
    with services.transaction() as session:
        for n, (state, finished) in enumerate(
            [("SUCCESS", 10), ("FAILURE", 20), ("FAILURE", 30), ("FAILURE", 900), ("STARTED", None)]
        ):
            at = now - timedelta(seconds=finished) if finished else None
            session.add(Task(task_id=f"t{n}", state=state, queue="q", first_seen_at=now,
                             finished_at=at, updated_at=now))  # fmt: skip
    with services.transaction() as session:
        assert alerts.outcomes(session, now, 300) == {"q": (1, 2)}


def seed_lost_worker(services: Services, hostname: str) -> None:
    now = datetime.now(UTC)
    with services.transaction() as session:
        session.add(Worker(hostname=hostname, status="online", freq=2.0, queues=json.dumps([]),
                           last_heartbeat=now - timedelta(minutes=3), updated_at=now))  # fmt: skip


def test_acknowledging_is_logged_shown_and_forgotten_once_the_alert_clears(
    services: Services,
) -> None:
    seed_lost_worker(services, "gone@h")
    [alert] = [a for a in fleet_view(services).alerts if a.subject == "gone@h"]
    assert alert.alert == "worker_offline" and not alert.acknowledged

    refused = acknowledge_alert(services, "alice", "no_such_alert", "gone@h")
    assert refused.status == 400
    result = acknowledge_alert(services, "alice", "worker_offline", "gone@h")
    assert result.ok, result.body
    [alert] = [a for a in fleet_view(services).alerts if a.subject == "gone@h"]
    assert alert.acknowledged and alert.acked_by == "alice"
    logged = list_actions(services, {"action": "alert_ack"}).rows
    assert [(a.actor, a.target, a.outcome) for a in logged] == [
        ("alice", "worker_offline:gone@h", "ok"), ("alice", "no_such_alert:gone@h", "refused"),
    ]  # fmt: skip

    # The worker comes back: the scheduler's evaluation forgets the (old enough) ack.
    with services.transaction() as session:
        session.get(Worker, "gone@h").last_heartbeat = datetime.now(UTC)  # type: ignore[union-attr]
        session.get(AlertAck, ("worker_offline", "gone@h")).at = ago(0)  # type: ignore[union-attr]
    settle_alerts(services)
    with services.transaction() as session:
        assert session.get(AlertAck, ("worker_offline", "gone@h")) is None


def test_only_an_offline_worker_can_be_forgotten_and_it_is_logged(services: Services) -> None:
    seed_lost_worker(services, "gone@h")
    now = datetime.now(UTC)
    with services.transaction() as session:
        session.add(Worker(hostname="alive@h", status="online", freq=2.0, last_heartbeat=now,
                           updated_at=now))  # fmt: skip
    assert forget_worker(services, "root", "alive@h").status == 400
    assert forget_worker(services, "root", "nobody@h").status == 404
    result = forget_worker(services, "root", "gone@h")
    assert result.ok, result.body
    view = fleet_view(services)
    assert "gone@h" not in {w.hostname for w in view.workers}
    assert not [a for a in view.alerts if a.subject == "gone@h"]
    logged = list_actions(services, {"action": "forget_worker"}).rows
    assert [(a.target, a.outcome) for a in logged] == [
        ("gone@h", "ok"), ("nobody@h", "refused"), ("alive@h", "refused"),
    ]  # fmt: skip
