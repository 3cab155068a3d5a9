"""`controlplane users ...` past `add` and `token`: list, disable, enable, role, passwd,
revoke-tokens, tokens, revoke-token. Each change goes through accounts/ and into the action
log as actor "cli"; a change that takes access away does so at once (accounts/lifecycle)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from controlplane.cli import fail, require_database, settings_from, users_group

if TYPE_CHECKING:
    from controlplane.control.action_log import ActionResult
    from controlplane.services import Services

ACTOR = "cli"


@contextmanager
def _services(ctx: click.Context) -> Iterator[Services]:
    from controlplane.services import build_services

    settings = settings_from(ctx)
    require_database(settings)
    services = build_services(settings)
    try:
        yield services
    finally:
        services.close()


def _report(result: ActionResult) -> None:
    if not result.ok:
        fail(str(result.body.get("error", "failed")))
    click.echo(result.body.get("message", "done"))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_group.command(name="list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users: name, role, enabled or disabled, created."""
    from controlplane import users

    with _services(ctx) as services:
        for user in users.list_users(services):
            state = "disabled" if user.disabled else "enabled"
            created = user.created_at.strftime("%Y-%m-%d %H:%M") if user.created_at else "-"
            click.echo(f"{user.username}\t{user.role}\t{state}\t{created}")


def _lifecycle_command(name: str, doc: str, action: str) -> None:
    """`action` is named, not passed: importing accounts.lifecycle loads the console's whole
    control package, which every command (`audit` included) would pay at start-up."""

    @users_group.command(name=name, help=doc)
    @click.argument("username")
    @click.pass_context
    def command(ctx: click.Context, username: str) -> None:
        from controlplane.accounts import lifecycle

        act: Callable[[Services, str, str], ActionResult] = getattr(lifecycle, action)
        with _services(ctx) as services:
            _report(act(services, ACTOR, username))


_lifecycle_command("disable", "Disable NAME: their sessions and tokens stop at once.", "disable")
_lifecycle_command("enable", "Enable NAME again.", "enable")
_lifecycle_command("revoke-tokens", "Revoke every API token of NAME.", "revoke_tokens")


@users_group.command(name="role")
@click.argument("username")
@click.argument("role", type=click.Choice(["viewer", "operator", "admin"]))
@click.pass_context
def users_role(ctx: click.Context, username: str, role: str) -> None:
    """Give NAME the role ROLE."""
    from controlplane.accounts import lifecycle

    with _services(ctx) as services:
        _report(lifecycle.set_role(services, ACTOR, username, role))


@users_group.command(name="passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_passwd(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Set a new password for NAME (the policy applies); their sessions end."""
    from controlplane.accounts import lifecycle

    password = _read_password(password_stdin)
    with _services(ctx) as services:
        _report(lifecycle.set_password(services, ACTOR, username, password))


@users_group.command(name="tokens")
@click.argument("username", required=False)
@click.pass_context
def users_tokens(ctx: click.Context, username: str | None) -> None:
    """List API tokens (of NAME, or everyone's): id, user, name, created, last used, expiry."""
    from controlplane.accounts.tokens import list_tokens

    def when(value: object) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"  # type: ignore[attr-defined]

    with _services(ctx) as services:
        for token in list_tokens(services, username):
            state = "live" if token.live else ("revoked" if token.revoked_at else "expired")
            click.echo(
                f"{token.id}\t{token.username}\t{token.name or '-'}\t{when(token.created_at)}"
                f"\t{when(token.last_used_at)}\t{when(token.expires_at)}\t{state}"
            )


@users_group.command(name="revoke-token")
@click.argument("token_id", type=int)
@click.pass_context
def users_revoke_token(ctx: click.Context, token_id: int) -> None:
    """Revoke one API token by its id (see `users tokens`)."""
    from controlplane.accounts.tokens import revoke_token

    with _services(ctx) as services:
        _report(revoke_token(services, ACTOR, token_id))
