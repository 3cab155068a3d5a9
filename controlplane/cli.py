"""The `controlplane` command: run the console, manage the database and users."""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from controlplane.config import Settings, load_settings
from controlplane.errors import ControlplaneError, SettingsError

BAD_INPUT = 2


def fail(message: str) -> None:
    """One clear line on stderr and exit code 2: what a user needs to fix a bad setting."""
    click.echo(f"error: {message}", err=True)
    sys.exit(BAD_INPUT)


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        settings = load_settings(config_file=ctx.obj.get("config"), **overrides)
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable; keeps type checkers happy
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return settings


def check_data_path(settings: Settings) -> None:
    """SQLite's directory must be writable: a process that cannot write fails in one line."""
    from controlplane.processes.startup import check_data_path as check

    check(settings)


def require_database(settings: Settings) -> None:
    """Commands that work on an existing console database say in one line where they looked
    when there is none (SQLite would otherwise create an empty file here and fail later)."""
    from controlplane.processes.startup import sqlite_file

    path = sqlite_file(settings)
    if path is None:
        return
    fix = (
        "run it in the directory where `controlplane up` ran, or set CONTROLPLANE_DATABASE_URL "
        "(`controlplane db upgrade` creates a new one)"
    )
    if not path.is_file():
        fail(f"no controlplane database at {path} ({settings.database_url} from {Path.cwd()}): "
             f"{fix}")  # fmt: skip
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        ).fetchone()
    if not found:
        fail(f"{path} has no controlplane tables: run `controlplane db upgrade`, or {fix}")


def _engine(settings: Settings) -> Any:
    from controlplane.db import make_engine

    return make_engine(settings.database_url)


@click.group()
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="CONTROLPLANE_CONFIG",
    help="A TOML file of settings (environment variables CONTROLPLANE_* win over it).",
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """controlplane: an operations console for Celery fleets."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


def _host_port(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--port", type=int, default=None, help="Port (default 8080).")(function)
    return click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")(
        function
    )


@main.command()
@_host_port
@click.option("--no-demo-worker", is_flag=True, help="Do not start the demo Celery worker.")
@click.pass_context
def up(ctx: click.Context, host: str | None, port: int | None, no_demo_worker: bool) -> None:
    """Run everything on one machine: console, private Redis if needed, SQLite, demo worker."""
    from controlplane.processes.up import run_up

    settings = settings_from(ctx, host=host, port=port)
    try:
        check_data_path(settings)
        run_up(settings, demo_worker=not no_demo_worker)
    except ControlplaneError as exc:
        fail(str(exc))


@main.command()
@_host_port
# no default here: importing the web server's constant would load the whole console (about
# 0.6 s) for every command, `audit` included; `bind` uses DEFAULT_THREADS (8) when None
@click.option("--threads", type=click.IntRange(min=1), help="Request threads [default: 8].")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, threads: int | None) -> None:
    """Serve the console and API in production (needs CONTROLPLANE_BROKER_URL)."""
    from controlplane.processes.serve import run_serve

    settings = settings_from(ctx, host=host, port=port)
    if not settings.broker_url:
        fail("CONTROLPLANE_BROKER_URL: required by `serve` (use `up` for a private Redis)")
    problem = settings.public_secret_problem()
    if problem:
        fail(problem)
    try:
        check_data_path(settings)
        require_database(settings)
        run_serve(settings, threads)
    except ControlplaneError as exc:
        fail(str(exc))


@main.command()
@click.pass_context
def events(ctx: click.Context) -> None:
    """Ingest the fleet's Celery events into the database until SIGTERM or Ctrl-C."""
    from controlplane.processes.events import run_events

    settings = settings_from(ctx)
    if not settings.broker_url:
        fail("CONTROLPLANE_BROKER_URL: required by `events`")
    try:
        check_data_path(settings)
        run_events(settings)
    except ControlplaneError as exc:
        fail(str(exc))


@main.command()
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Sample queue depth, inspect workers, apply retention (run any number: one leads)."""
    from controlplane.processes.scheduler import run_scheduler

    settings = settings_from(ctx)
    if not settings.broker_url:
        fail("CONTROLPLANE_BROKER_URL: required by `scheduler`")
    try:
        check_data_path(settings)
        require_database(settings)
        run_scheduler(settings)
    except ControlplaneError as exc:
        fail(str(exc))


@main.group(name="db")
def db_group() -> None:
    """Create or migrate the database schema."""


@db_group.command()
@click.argument("revision", default="head")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Upgrade the schema (idempotent: running it twice changes nothing)."""
    from controlplane import db

    settings = settings_from(ctx)
    engine = _engine(settings)
    try:
        db.upgrade(engine, revision)
        click.echo(f"database at revision {db.current_revision(engine)}")
    except Exception as exc:
        fail(f"database upgrade failed: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


@db_group.command()
@click.argument("revision")
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the schema to REVISION (`base` removes every table)."""
    from controlplane import db

    settings = settings_from(ctx)
    engine = _engine(settings)
    try:
        db.downgrade(engine, revision)
        click.echo(f"database at revision {db.current_revision(engine)}")
    finally:
        engine.dispose()


@main.group(name="users")
def users_group() -> None:
    """Users and API tokens: add, list, disable, enable, role, passwd, token, tokens,
    revoke-token, revoke-tokens."""


@users_group.command(name="add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["viewer", "operator", "admin"]),
    default="viewer",
    show_default=True,
    help="What the user may do.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add a console user (the password is asked for, or read from stdin; the policy
    applies). Written in the action log as actor "cli"."""
    from controlplane import db
    from controlplane.accounts import lifecycle
    from controlplane.services import build_services

    settings = settings_from(ctx)
    require_database(settings)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    services = build_services(settings)
    try:
        db.upgrade(services.engine)
        result = lifecycle.add(services, "cli", name, password, role)
    finally:
        services.close()
    if not result.ok:
        fail(str(result.body.get("error", "failed")))
    click.echo(f"added {name} ({role})")


@users_group.command(name="token")
@click.argument("name")
@click.option("--name", "label", help="What the token is for (shown in `users tokens`).")
@click.option("--expires-in", type=click.FloatRange(min=0, min_open=True), metavar="DAYS",
              help="Stop working after this many days.")  # fmt: skip
@click.pass_context
def users_token(ctx: click.Context, name: str, label: str | None, expires_in: float | None) -> None:
    """Print a new API token for NAME, once (send it as `Authorization: Bearer TOKEN`)."""
    from datetime import timedelta

    from controlplane import users
    from controlplane.clock import utcnow
    from controlplane.services import build_services

    settings = settings_from(ctx)
    require_database(settings)
    services = build_services(settings)
    expires_at = None if expires_in is None else utcnow() + timedelta(days=expires_in)
    try:
        token = users.create_token(services, name, label, expires_at)
    except users.UserError as exc:
        fail(str(exc))
    finally:
        services.close()
    click.echo(token)


@main.command()
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP at /mcp, not stdio.")
@_host_port
@click.pass_context
def mcp(ctx: click.Context, http: bool, host: str | None, port: int | None) -> None:
    """A read-only MCP server for agents (stdio, or --http); needs a viewer's API token.

    stdio: the token in CONTROLPLANE_MCP_TOKEN. HTTP: `Authorization: Bearer TOKEN` on every
    request (default port 8090).
    """
    import os

    try:
        from controlplane.agent.server import AgentAuthError, run_http, run_stdio
    except ImportError as exc:
        fail(f"the MCP server needs the mcp package: pip install 'controlplane[mcp]' ({exc})")
    from controlplane.services import build_services

    settings = settings_from(ctx, host=host)
    services = build_services(settings)
    try:
        if http:
            run_http(services, settings.host, port or 8090)
        else:
            run_stdio(services, os.environ.get("CONTROLPLANE_MCP_TOKEN"))
    except AgentAuthError as exc:
        fail(str(exc))
    finally:
        services.close()


def _register_audit() -> None:
    from controlplane.migrations_audit.cli import audit_command

    main.add_command(audit_command, name="audit")


_register_audit()
from controlplane import cli_users  # noqa: E402,F401  (registers the users lifecycle commands)

if __name__ == "__main__":  # pragma: no cover
    main()
