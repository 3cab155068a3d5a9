"""Helpers shared by the event-ingestion tests: an ingester in this process, rows by id."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, select

from controlplane import db
from controlplane.config import Settings
from controlplane.events import Ingester
from controlplane.models import Task
from tests.conftest import ROOT


def ingest_settings(broker_url: str, database_url: str, **extra: Any) -> Settings:
    return Settings(broker_url=broker_url, database_url=database_url, inspect_timeout=1.0, **extra)


def start_ingester(settings: Settings, **kwargs: Any) -> tuple[Ingester, Engine]:
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    kwargs.setdefault("flush_interval", 0.05)
    return Ingester(settings, engine, **kwargs).start(), engine


def rows(engine: Engine, task_ids: Iterable[str]) -> dict[str, Task]:
    ids = list(task_ids)
    with db.session_scope(db.make_session_factory(engine)) as session:
        found = session.scalars(select(Task).where(Task.task_id.in_(ids))).all()
        return {task.task_id: task for task in found}


def _load_firehose() -> ModuleType:
    name = "bench_firehose"
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "firehose.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


FIREHOSE = _load_firehose()  # bench/firehose.py: what each synthetic task is (`plan`)


def firehose(
    url: str,
    tasks: int,
    prefix: str,
    events: str = "received,started,succeeded",
    failures: float = 0.0,
) -> dict:
    """Publish synthetic task events from a separate process (bench/firehose.py)."""
    import json

    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "firehose.py"), "--url", url, "--tasks",
         str(tasks), "--prefix", prefix, "--events", events, "--failures", str(failures)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def firehose_ids(prefix: str, tasks: int) -> list[str]:
    return [FIREHOSE.task_id(prefix, index) for index in range(tasks)]
