"""API tokens as an admin sees them: named, with creation, last use and expiry, listed and
revoked one by one (in the action log). Creating one is `users.create_token`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.errors import ActionError, NotFound
from controlplane.models import ApiToken, User

if TYPE_CHECKING:
    from controlplane.services import Services


@dataclass(frozen=True)
class TokenRecord:
    id: int
    username: str
    name: str | None
    created_at: datetime | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        expired = self.expires_at is not None and self.expires_at <= utcnow()
        return self.revoked_at is None and not expired


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def list_tokens(services: Services, username: str | None = None) -> list[TokenRecord]:
    with services.transaction() as session:
        query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
        if username is not None:
            query = query.where(User.username == username)
        rows = session.execute(query.order_by(User.username, ApiToken.id)).all()
        return [
            TokenRecord(
                token.id,
                name,
                token.name,
                _utc(token.created_at),
                _utc(token.last_used_at),
                _utc(token.expires_at),
                _utc(token.revoked_at),
            )
            for token, name in rows
        ]


def issue_token(
    services: Services, actor: str, username: str, name: str, expires_in_days: float | None
) -> tuple[ActionResult, str | None]:
    """A new named token for `username`, in the action log (its name, never the token);
    the token itself is returned once, for the page to show."""
    from controlplane import users

    issued: list[str] = []

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if expires_in_days is not None and not 0 < expires_in_days <= 3650:
            raise ActionError("expiry: between 0 and 3650 days, or none")
        expires_at = None if expires_in_days is None else utcnow() + timedelta(days=expires_in_days)
        try:
            issued.append(users.token_in(session, username, name, expires_at))
        except users.UserError as exc:
            raise NotFound(str(exc)) from None
        message = f"token {name or '(unnamed)'} issued for {username}: shown once, below"
        return 201, {"user": username, "message": message}

    params = {"name": name[:64], "expires_in_days": expires_in_days}
    result = run_action(services, actor, "token.issue", username[:64], params, perform)
    return result, (issued[0] if result.ok and issued else None)


def revoke_token(services: Services, actor: str, token_id: int) -> ActionResult:
    """Revoke one token: refused here at once, on other replicas within 5 s."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"no token {token_id}")
        if token.revoked_at is not None:
            raise ActionError(f"token {token_id} is already revoked")
        token.revoked_at = utcnow()
        return 200, {"token": token_id, "message": f"token {token_id} revoked"}

    result = run_action(services, actor, "token.revoke", str(token_id), {}, perform)
    services.state.tokens.clear()
    return result
