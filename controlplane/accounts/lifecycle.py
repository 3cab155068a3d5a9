"""What an admin does to a user after creating it: disable, enable, change the role, set a
new password, revoke every token, end every session. Each is written in the action log
(the CLI acts as "cli"), and each that takes access away takes it away at once: sessions end
by bumping the user's session generation, tokens by clearing this process's token memory
(other replicas forget within its 5 s)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controlplane.accounts.passwords import WeakPassword, check_password
from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.errors import ActionError, NotFound
from controlplane.models import ROLES, ApiToken, User

if TYPE_CHECKING:
    from controlplane.services import Services


def add(services: Services, actor: str, username: str, password: str, role: str) -> ActionResult:
    """A new user (the password policy applies), written in the action log."""
    from controlplane import users

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        try:
            user = users.add_in(session, username, password, role)
        except users.UserError as exc:
            raise ActionError(str(exc)) from None
        return 201, {"user": user.username, "message": f"Added {user.username} ({user.role})."}

    params = {"role": role[:32]}
    return run_action(services, actor, "user.add", username.strip()[:64], params, perform)


def disable(services: Services, actor: str, username: str) -> ActionResult:
    def perform(user: User, session: Session) -> str:
        if user.username == actor:
            raise ActionError("you cannot disable yourself")
        user.disabled = True
        _end_sessions(user)
        return f"{user.username} disabled; their sessions and tokens stopped"

    return _act(services, actor, "user.disable", username, {}, perform)


def enable(services: Services, actor: str, username: str) -> ActionResult:
    def perform(user: User, session: Session) -> str:
        user.disabled = False
        return f"{user.username} enabled"

    return _act(services, actor, "user.enable", username, {}, perform)


def set_role(services: Services, actor: str, username: str, role: str) -> ActionResult:
    def perform(user: User, session: Session) -> str:
        if role not in ROLES:
            raise ActionError(f"role must be one of {', '.join(ROLES)}, got {role[:32]!r}")
        if user.username == actor and role != user.role:
            raise ActionError("you cannot change your own role")
        user.role = role
        return f"{user.username} is now {role}"

    return _act(services, actor, "user.role", username, {"role": role[:32]}, perform)


def set_password(services: Services, actor: str, username: str, password: str) -> ActionResult:
    """A new password (checked by the policy); every session of the user ends."""
    from werkzeug.security import generate_password_hash

    def perform(user: User, session: Session) -> str:
        try:
            check_password(password, user.username)
        except WeakPassword as exc:
            raise ActionError(str(exc)) from None
        user.password_hash = generate_password_hash(password)
        _end_sessions(user)
        return f"password of {user.username} changed; their sessions ended"

    return _act(services, actor, "user.passwd", username, {}, perform)


def revoke_tokens(services: Services, actor: str, username: str) -> ActionResult:
    def perform(user: User, session: Session) -> str:
        live = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ).all()
        for token in live:
            token.revoked_at = utcnow()
        count = len(live)
        return f"{count} token(s) of {user.username} revoked"

    return _act(services, actor, "user.revoke-tokens", username, {}, perform)


def end_sessions(services: Services, user_id: int) -> None:
    """Logout: every session of this user ends, here and on every replica, at once."""
    with services.transaction() as session:
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(session_generation=User.session_generation + 1)
        )


def _end_sessions(user: User) -> None:
    user.session_generation = (user.session_generation or 0) + 1


def _act(
    services: Services,
    actor: str,
    action: str,
    username: str,
    params: dict[str, Any],
    change: Callable[[User, Session], str],
) -> ActionResult:
    target = username.strip()[:64]

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        user = session.scalar(select(User).where(User.username == target))
        if user is None:
            raise NotFound(f"no user named {target!r}")
        message = change(user, session)
        return 200, {"user": user.username, "message": message}

    result = run_action(services, actor, action, target, params, perform)
    services.state.tokens.clear()  # a token of this user may be remembered here
    return result
