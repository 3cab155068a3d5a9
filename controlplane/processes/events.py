"""`controlplane events`: ingest the fleet's Celery events until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading

import click

from controlplane import db
from controlplane.config import Settings, redact_url
from controlplane.processes.ingest import start_ingester
from controlplane.services import build_services


def run_events(settings: Settings) -> None:
    """Ingest until SIGTERM or SIGINT, then write everything already received and return."""
    services = build_services(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        db.upgrade(services.engine)
        ingester = start_ingester(services)
    except BaseException:
        services.close()
        raise
    click.echo(f"ingesting events from {redact_url(settings.broker_url or '')}; Ctrl-C stops")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        click.echo("stopping: writing what was received…")
        ingester.stop()
        services.close()
