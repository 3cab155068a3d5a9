"""deploy/: promtool accepts the Prometheus files, the manifests parse, and every query uses
only the metric names in deploy/METRICS.md."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from controlplane.autoscale.manifests import EXAMPLE, ManifestError, keda_scaled_object
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
NAME = re.compile(r"\b(?:celery|controlplane)_[a-z_]+\b")


def metrics_contract() -> dict[str, str]:
    """metric name -> type, from the tables in METRICS.md."""
    rows = re.findall(
        r"^\| `([a-z_]+)` \| (counter|gauge|histogram) \|",
        (DEPLOY / "METRICS.md").read_text(),
        flags=re.M,
    )
    return dict(rows)


def unknown_metrics(expr: str, contract: dict[str, str]) -> list[str]:
    unknown = []
    for name in NAME.findall(expr):
        if name in contract:
            continue
        base = next((name.removesuffix(s) for s in HISTOGRAM_SUFFIXES if name.endswith(s)), "")
        if contract.get(base) != "histogram":
            unknown.append(name)
    return unknown


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    require(
        shutil.which("promtool") is not None,
        "promtool is missing (Debian package prometheus; `make test` installs it as root)",
    )
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_the_contract_lists_every_metric_the_issue_names() -> None:
    contract = metrics_contract()
    assert contract["celery_task_runtime"] == contract["celery_task_queue_wait_time"] == "histogram"
    assert contract["celery_task_failed_total"] == "counter"
    for name in (
        "ready",
        "reserved",
        "scheduled",
        "oldest_waiting_seconds",
        "arrival_rate",
        "completion_rate",
        "desired_workers",
    ):
        assert contract[f"controlplane_queue_{name}"] == "gauge"
    for name in (
        "controlplane_broker_up",
        "controlplane_ingest_lag_seconds",
        "controlplane_audit_coverage_ratio",
        "controlplane_audit_inline_endpoints",
    ):
        assert contract[name] == "gauge"
    for name in (
        "controlplane_events_ingested_total",
        "controlplane_events_lost_total",
        "controlplane_ingest_gaps_total",
    ):
        assert contract[name] == "counter"


def test_promtool_accepts_the_scrape_config_and_the_rules() -> None:
    config = promtool("check", "config", "deploy/prometheus/prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    rules = promtool("check", "rules", "deploy/prometheus/alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_alert_rules_pass_their_promtool_unit_tests() -> None:
    result = promtool("test", "rules", "deploy/prometheus/tests/alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {
        case["alertname"]
        for test in yaml.safe_load((DEPLOY / "prometheus/tests/alerts_test.yml").read_text())[
            "tests"
        ]
        for case in test["alert_rule_test"]
    }
    assert len(tested) >= 2


def test_alert_rules_use_only_contract_metrics() -> None:
    contract = metrics_contract()
    groups = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())["groups"]
    alerts = {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}
    for needed in (
        "CeleryQueueBacklogGrowing",
        "CeleryQueueNoConsumer",
        "CeleryWorkerDown",
        "CeleryTaskFailureRatioHigh",
        "ControlplaneIngestLagHigh",
        "ControlplaneEventsLost",
        "MigrationAuditCoverageDropped",
    ):
        assert needed in alerts
    for alert, expr in alerts.items():
        assert unknown_metrics(expr, contract) == [], alert


def test_grafana_dashboard_queries_only_contract_metrics() -> None:
    contract = metrics_contract()
    dashboard = json.loads((DEPLOY / "grafana/controlplane.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    assert len(exprs) >= 20
    for expr in exprs:
        assert NAME.search(expr), expr
        assert unknown_metrics(expr, contract) == [], expr
    used = {name for expr in exprs for name in NAME.findall(expr)}
    assert {"controlplane_queue_desired_workers", "celery_active_worker_count"} <= used
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            assert unknown_metrics(variable["definition"], contract) == []
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_every_yaml_file_in_deploy_parses() -> None:
    files = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert len(files) >= 9
    for path in files:
        assert yaml.safe_load(path.read_text()) is not None, path


def test_compose_runs_the_whole_stack() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {
        "console",
        "events",
        "scheduler",
        "worker",
        "redis",
        "postgres",
        "prometheus",
        "grafana",
        "migrate",
    }
    assert services["console"]["command"][:2] == ["controlplane", "serve"]
    assert services["events"]["command"] == ["controlplane", "events"]
    assert services["scheduler"]["command"] == ["controlplane", "scheduler"]
    for name in ("console", "events", "scheduler", "worker"):  # the YAML merge key worked
        env = services[name]["environment"]
        assert env["CONTROLPLANE_BROKER_URL"].startswith("redis://redis:")
        assert env["CONTROLPLANE_DATABASE_URL"].startswith("postgresql://")
    mounted = [volume.split(":")[0] for volume in services["grafana"]["volumes"]]
    for source in mounted:
        assert (DEPLOY / source).exists(), source


def test_systemd_units_verify() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "controlplane-serve.service",
        "controlplane-events.service",
        "controlplane-scheduler.service",
    }
    # `make system-deps` installs it (Debian's systemd); in CI its absence fails the run.
    require(shutil.which("systemd-analyze") is not None, "systemd-analyze is not installed")
    for unit in units:
        result = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=30
        )
        problems = [
            line
            for line in (result.stdout + result.stderr).splitlines()
            if line.strip() and "is not executable" not in line
        ]  # /opt/... not here
        assert problems == [], unit.name


def test_the_keda_file_is_the_template_rendered_with_the_example() -> None:
    text = (DEPLOY / "k8s/keda-scaledobject.yaml").read_text()
    assert keda_scaled_object(**EXAMPLE) == text  # type: ignore[arg-type]
    scaled = yaml.safe_load(text)
    spec = scaled["spec"]
    trigger = spec["triggers"][0]
    assert trigger["type"] == "prometheus"
    assert trigger["metadata"]["query"] == (
        'max(controlplane_queue_desired_workers{queue_name="default"})'
    )
    assert "activationThreshold" in trigger["metadata"]
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 0


def test_keda_object_for_another_queue_has_its_numbers_filled_in() -> None:
    rendered = yaml.safe_load(
        keda_scaled_object(
            "reports.v2",
            "jobs",
            "reports-worker",
            "https://prom.example:9090",
            0,
            7,
            scale_down_window=120,
            fallback_replicas=3,
        )
    )
    expected = yaml.safe_load((DEPLOY / "k8s/keda-scaledobject.yaml").read_text())
    expected["metadata"].update(name="reports-worker-reports-v2", namespace="jobs")
    expected["metadata"]["annotations"]["controlplane/queue"] = "reports.v2"
    spec: dict[str, Any] = expected["spec"]
    spec["scaleTargetRef"]["name"] = "reports-worker"
    spec.update(minReplicaCount=0, maxReplicaCount=7)
    spec["fallback"]["replicas"] = 3
    spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilizationWindowSeconds"
    ] = 120
    spec["triggers"][0]["metadata"].update(
        serverAddress="https://prom.example:9090",
        query='max(controlplane_queue_desired_workers{queue_name="reports.v2"})',
    )
    assert rendered == expected


@pytest.mark.parametrize(
    "change",
    [
        {"queue": 'x"}) or vector(1'},
        {"queue": "a\nb: 1"},
        {"namespace": "Not_A_Name"},
        {"deployment": "worker\n  evil: true"},
        {"prometheus_url": "file:///etc/passwd"},
        {"prometheus_url": 'http://p:9090" evil'},
        {"min_replicas": 5, "max_replicas": 4},
        {"max_replicas": 0},
        {"min_replicas": -1},
        {"max_replicas": True},
    ],
)
def test_keda_object_refuses_values_that_would_break_the_manifest(change: dict[str, Any]) -> None:
    with pytest.raises(ManifestError):
        keda_scaled_object(**{**EXAMPLE, **change})


def test_hpa_and_adapter_agree_on_the_external_metric() -> None:
    hpa = yaml.safe_load((DEPLOY / "k8s/hpa-external.yaml").read_text())
    assert hpa["apiVersion"] == "autoscaling/v2"
    external = hpa["spec"]["metrics"][0]["external"]
    assert external["metric"]["name"] == "controlplane_queue_desired_workers"
    assert external["metric"]["selector"]["matchLabels"] == {"queue_name": "default"}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 0
    adapter = yaml.safe_load((DEPLOY / "k8s/prometheus-adapter-rules.yaml").read_text())
    rule = adapter["externalRules"][0]
    assert "controlplane_queue_desired_workers" in rule["seriesQuery"]
    assert rule["name"]["as"] == external["metric"]["name"]
    assert rule["resources"] == {"namespaced": False}
