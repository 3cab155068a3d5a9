"""`controlplane events`: ingest the fleet's Celery events until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading

import click

from controlplane.config import Settings, redact_url
from controlplane.processes.ingest import start_ingester, start_worker_mailbox
from controlplane.processes.startup import wait_until_ready
from controlplane.services import build_services


def run_events(settings: Settings) -> None:
    """Ingest until SIGTERM or SIGINT, then write everything already received and return.

    A database or broker that is not up yet is waited for (backoff, one log line per attempt).
    """
    services = build_services(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        if not wait_until_ready(services, ("database", "broker"), stop, upgrade=True):
            services.close()
            return
        ingester = start_ingester(services)
        mailbox = start_worker_mailbox(services)
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
        mailbox.stop()
        services.close()
