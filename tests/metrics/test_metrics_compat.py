"""Compatibility names, parsed from deploy/METRICS.md and from a real scrape: Flower's
families (METRICS_FLOWER_NAMES) and celery_task_queue_wait_time at celery-exporter's buckets."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.events import Ingester
from controlplane.events.counters import seeded_stats
from controlplane.fleet.sampler import Sampler
from controlplane.metrics import Metrics
from controlplane.models import Task
from controlplane.services import build_services
from tests.conftest import start_worker, wait_for

METRICS_MD = Path(__file__).resolve().parents[2] / "deploy" / "METRICS.md"
ADD, SLOW = "worker_tasks.tasks.add", "worker_tasks.tasks.slow"
# danihodovic/celery-exporter src/exporter.py DEFAULT_QUEUE_WAIT_BUCKETS (PR #386, 3c31b25)
CELERY_EXPORTER_WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]


def documented_flower_names() -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (type, labels) from the optional Flower table of METRICS.md."""
    rows = re.findall(
        r"^\| `(flower_[a-z_]+)` \| (counter|gauge|histogram) \(optional\) \| ([^|]*) \|",
        METRICS_MD.read_text(),
        flags=re.M,
    )
    return {name: (kind, tuple(re.findall(r"`(\w+)`", labels))) for name, kind, labels in rows}


def documented_wait_buckets() -> list[float]:
    row = next(line for line in METRICS_MD.read_text().splitlines()
               if line.startswith("| `celery_task_queue_wait_time` |"))  # fmt: skip
    listed = re.search(r"buckets `([^`]+)`", row)
    assert listed, row
    return [float(bound) for bound in listed.group(1).split(",")]


@dataclass
class Scrape:
    families: dict[str, Any]  # name -> prometheus_client Metric
    host: str
    plain: dict[str, Any]  # the same fleet scraped without Flower's names


@pytest.fixture(scope="module")
def scrape(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scrape]:
    uid = uuid.uuid4().hex[:8]
    queue = f"compat-{uid}"
    directory = tmp_path_factory.mktemp("compat")
    settings = Settings(broker_url=redis_server.url, queues=(queue,), inspect_timeout=0.5,
                        database_url=f"sqlite:///{directory / 'cp.db'}",
                        metrics_flower_names=True)  # fmt: skip
    services = build_services(settings)
    db.upgrade(services.engine)
    ingester = Ingester(settings, services.engine, stats=seeded_stats(services.engine),
                        flush_interval=0.05).start()  # fmt: skip
    services.state.ingest_stats = ingester.stats
    # One slot, acks late, prefetch 2: a slow task runs while the next one waits at the worker.
    worker = start_worker(redis_server.url, (queue,), directory, concurrency=1, prefetch=2)
    try:
        done = [services.celery.send_task(ADD, args=[n, 1], queue=queue) for n in range(3)]
        assert [result.get(timeout=20) for result in done] == [1, 2, 3]
        for _ in range(2):
            services.celery.send_task(SLOW, kwargs={"seconds": 30}, queue=queue)

        def holding() -> bool:
            with services.transaction() as session:
                states = [t.state for t in session.query(Task).filter(Task.name == SLOW)]
            return sorted(states) == ["RECEIVED", "STARTED"]

        wait_for(holding, timeout=30, what="one slow task running, one held by the worker")
        sampler = Sampler(services, services.state.latest, "test")
        sampler.inspect(force=True)
        sampler.sample()
        exposition = Metrics(services).scrape().decode()
        plain = Metrics(replace(services, settings=replace(settings, metrics_flower_names=False)))
        yield Scrape(
            {f.name: f for f in text_string_to_metric_families(exposition)},
            worker.hostname,
            {f.name: f for f in text_string_to_metric_families(plain.scrape().decode())},
        )
    finally:
        worker.kill()
        ingester.stop()
        services.close()


def test_the_queue_wait_histogram_has_celery_exporters_name_labels_and_buckets(
    scrape: Scrape,
) -> None:
    assert documented_wait_buckets() == CELERY_EXPORTER_WAIT_BUCKETS
    family = scrape.families["celery_task_queue_wait_time"]
    assert family.type == "histogram"
    bounds = sorted({float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")})
    assert bounds == [*CELERY_EXPORTER_WAIT_BUCKETS, float("inf")]
    add = [s for s in family.samples if s.labels.get("name") == ADD]
    assert {tuple(sorted(s.labels)) for s in add if s.name.endswith("_count")} == {
        ("name", "queue_name")  # fleet-wide, per task and queue (deploy/METRICS.md)
    }
    count = sum(s.value for s in add if s.name.endswith("_count"))
    inf = sum(s.value for s in add if s.name.endswith("_bucket") and s.labels["le"] == "+Inf")
    assert count == inf == 3  # three adds started


def test_flowers_names_are_exported_as_documented_and_only_when_asked(scrape: Scrape) -> None:
    documented = documented_flower_names()
    assert len(documented) == 6
    for name, (kind, labels) in documented.items():
        base = name.removesuffix("_total")
        family = scrape.families[base]
        assert family.type == kind, name
        assert family.samples, name
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == set(labels), (name, sample)
        assert base not in scrape.plain  # off by default
    events = scrape.families["flower_events"].samples
    wanted = {"worker": scrape.host, "type": "task-succeeded", "task": ADD}
    succeeded = [s for s in events if s.labels == wanted]
    assert [s.value for s in succeeded if s.name == "flower_events_total"] == [3.0]

    def gauge(name: str, **labels: str) -> float | None:
        found = [s.value for s in scrape.families[name].samples if s.labels == labels]
        return found[0] if found else None

    assert gauge("flower_worker_online", worker=scrape.host) == 1
    assert gauge("flower_worker_prefetched_tasks", worker=scrape.host, task=SLOW) == 1
    waited = gauge("flower_task_prefetch_time_seconds", worker=scrape.host, task=SLOW)
    assert waited is not None and waited >= 0
    runtimes = scrape.families["flower_task_runtime_seconds"].samples
    count = [s.value for s in runtimes if s.name.endswith("_count") and s.labels["task"] == ADD]
    assert count == [3.0]
