"""The service layer's shared handles, built once per process from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from controlplane.broker import Broker, broker_for
from controlplane.broker.celery_app import make_celery
from controlplane.config import Settings
from controlplane.db import make_engine, make_session_factory
from controlplane.events.stats import IngestStats
from controlplane.fleet.sample import LatestSample


@dataclass
class Services:
    """What views, the CLI and background threads share: settings, database, broker, Celery."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    celery: Celery
    broker: Broker
    # The last fleet sample, kept by this process's scheduler while it leads (else empty).
    latest: LatestSample = field(default_factory=LatestSample)
    cache: dict[str, Any] = field(default_factory=dict)  # small per-process caches
    # The event ingester's counters when it runs in this process (`up`, `events`), else None.
    ingest_stats: IngestStats | None = None

    def close(self) -> None:
        self.broker.close()
        self.engine.dispose()


def build_services(settings: Settings, engine: Engine | None = None) -> Services:
    if not settings.broker_url:
        raise ValueError("build_services needs a broker URL (start the embedded Redis first)")
    engine = engine or make_engine(settings.database_url)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        celery=make_celery(settings),
        broker=broker_for(settings.broker_url),
    )
