"""`controlplane serve`: the console and API for production, any number of replicas."""

from __future__ import annotations

import click

from controlplane.config import Settings
from controlplane.services import build_services
from controlplane.web import create_app
from controlplane.web.server import make_server


def run_serve(settings: Settings, threads: int) -> None:
    services = build_services(settings)
    click.echo(f"serving on http://{settings.host}:{settings.port}/")
    server = make_server(create_app(services), settings.host, settings.port, threads)
    try:
        server.run()
    finally:
        server.close()
        services.close()
