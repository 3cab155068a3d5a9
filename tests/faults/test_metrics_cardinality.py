"""Row 20 of FAULTS.md: 10,000 distinct task ids and 500 worker hostnames that come and go,
sent as real Celery events (Celery's own dispatcher, a private redis-server, the real ingester).

/metrics must stay bounded: no task id in any label, the same number of series for every
hostname (counters and worker gauges: the histograms are fleet-wide), so the total is the
fleet-wide families plus that many per live worker; after the offline window (shortened to
2 s) the 480 departed workers' series are gone and only the 20 still online keep theirs.
Three scrapes with all 500 hosts are timed: the best under 1 s (the machine is shared: one
slow scrape is load, three are a regression).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable

from celery import Celery
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from controlplane.models import Task
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import wait_for
from tests.faults.conftest import FaultRedis

TASKS = 10_000
HOSTS = 500
STAYING = 20
OFFLINE_WINDOW = 2.0

Series = tuple[str, frozenset[tuple[str, str]]]


def parse(body: str) -> list[Series]:
    return [
        (s.name, frozenset(s.labels.items()))
        for family in text_string_to_metric_families(body)
        for s in family.samples
    ]


def host_of(series: Series) -> str | None:
    return dict(series[1]).get("hostname")


def test_row20_ten_thousand_ids_and_500_churning_hosts_keep_metrics_bounded(
    fault_redis: FaultRedis,
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
) -> None:
    run = uuid.uuid4().hex[:6]
    queue = f"card-{run}"
    services = console_factory(
        fault_redis.url, queues=(queue,), metrics_offline_worker_seconds=OFFLINE_WINDOW
    )
    ingesters(services)
    time.sleep(1.0)  # the ingester's consumer binds before the events go out
    hosts = [f"w{index}-{run}@pod-{uuid.uuid4().hex[:5]}" for index in range(HOSTS)]
    task_ids = [f"{run}-{index}" for index in range(TASKS)]
    app = Celery(broker=fault_redis.url, set_as_current=False)
    try:
        with app.connection_for_write() as connection:
            dispatchers = {
                host: app.events.Dispatcher(connection, hostname=host, enabled=True)
                for host in hosts
            }
            for dispatcher in dispatchers.values():
                dispatcher.send("worker-online", freq=2.0, sw_ident="py-celery", sw_ver="5",
                                sw_sys="Linux")  # fmt: skip
            for index, task_id in enumerate(task_ids):
                dispatcher = dispatchers[hosts[index % HOSTS]]
                now = time.time()
                dispatcher.send("task-received", uuid=task_id, name="faults.record",
                                args="()", kwargs="{}", retries=0, eta=None, root_id=task_id,
                                parent_id=None, timestamp=now)  # fmt: skip
                dispatcher.send("task-succeeded", uuid=task_id, result="None", runtime=0.01,
                                timestamp=now)  # fmt: skip
            for dispatcher in dispatchers.values():
                dispatcher.send("worker-heartbeat", freq=2.0, active=0, processed=0)

            def stored() -> bool:
                with services.engine.connect() as db:
                    done = db.scalar(
                        select(func.count()).select_from(Task).where(Task.state == "SUCCESS")
                    )
                return done == TASKS

            wait_for(stored, timeout=240, interval=1.0, what=f"{TASKS} tasks stored")
            client = create_app(services, {"TESTING": True}).test_client()
            scrapes: list[list[Series]] = []

            def every_host_shown() -> bool:
                # The fleet keeps beating: with a 2 s offline window, a heartbeat ingested a few
                # seconds before the scrape (a loaded machine) already counts as gone.
                for dispatcher in dispatchers.values():
                    dispatcher.send("worker-heartbeat", freq=2.0, active=0, processed=0)
                response = client.get("/metrics")
                assert response.status_code == 200
                scrapes.append(parse(response.get_data(as_text=True)))
                return {host_of(s) for s in scrapes[-1]} - {None} == set(hosts)

            wait_for(every_host_shown, timeout=60, interval=0.5, what=f"{HOSTS} hosts on /metrics")
            everyone = scrapes[-1]
            timings = []
            for _ in range(3):  # timed while all 500 hosts and 10,000 tasks are there
                started = time.monotonic()
                response = client.get("/metrics")
                timings.append(time.monotonic() - started)
                assert response.status_code == 200

            # 480 leave (worker-offline), 20 stay and keep beating.
            for host in hosts[STAYING:]:
                dispatchers[host].send("worker-offline")
            deadline = time.monotonic() + 60
            remaining: list[Series] = []
            while time.monotonic() < deadline:
                for host in hosts[:STAYING]:
                    dispatchers[host].send("worker-heartbeat", freq=2.0, active=0, processed=0)
                remaining = parse(client.get("/metrics").get_data(as_text=True))
                if {host_of(s) for s in remaining} - {None} == set(hosts[:STAYING]):
                    break
                time.sleep(0.5)
            for dispatcher in dispatchers.values():
                dispatcher.close()
    finally:
        app.close()

    left = {host_of(s) for s in remaining} - {None}
    assert left == set(hosts[:STAYING]), f"{len(left)} hostnames still on /metrics"
    ids = set(task_ids)
    for series in everyone:
        assert not any(value in ids for _, value in series[1]), f"a task id as a label: {series}"
    # Every hostname has the same number of series, so the total is bounded by the fleet size;
    # the histograms are fleet-wide (per task and queue): none of their series names a host.
    histograms = [s for s in everyone if s[0].startswith("celery_task_runtime_")]
    assert histograms and not [s for s in histograms if host_of(s)], histograms[:3]
    per_host = Counter(host_of(s) for s in everyone if host_of(s))
    assert len(set(per_host.values())) == 1, per_host.most_common(3)
    k = next(iter(per_host.values()))
    fleet_wide = len(everyone) - k * HOSTS
    assert len(remaining) <= fleet_wide + k * STAYING, (len(remaining), fleet_wide, k)
    print(f"series: {len(everyone)} with {HOSTS} hosts ({k} per host, {fleet_wide} fleet-wide), "
          f"{len(remaining)} after the window; scrapes with 500 hosts "
          f"{', '.join(f'{t:.3f}' for t in timings)} s")  # fmt: skip
    assert min(timings) < 1.0, timings
