"""`controlplane serve`: the console and API for production, any number of replicas.

The port is bound first; until the database answers, /readyz says 503 naming it (and
/healthz 200), so a replica started before its database waits instead of crash-looping.
"""

from __future__ import annotations

import threading

import click

from controlplane.config import Settings
from controlplane.processes.startup import bind, wait_until_ready
from controlplane.services import build_services
from controlplane.web import create_app


def run_serve(settings: Settings, threads: int | None = None) -> None:
    server, late = bind(settings, threads)
    services = build_services(settings)
    app = create_app(services)
    stop = threading.Event()

    def open_when_ready() -> None:
        if wait_until_ready(services, ("database",), stop, late):
            late.ready(app)

    threading.Thread(target=open_when_ready, name="startup", daemon=True).start()
    click.echo(f"serving on http://{settings.host}:{settings.port}/")
    try:
        server.run()
    finally:
        stop.set()
        server.close()
        services.close()
