"""Users, roles, passwords and API tokens. Passwords and tokens are stored hashed only.

Service functions (see controlplane/services.py): each takes `services`, owns its transaction
and returns `UserRecord`s, never ORM rows.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from controlplane.accounts.passwords import WeakPassword, check_password
from controlplane.clock import as_utc, utcnow
from controlplane.errors import ControlplaneError
from controlplane.models import ROLES, ApiToken, User

if TYPE_CHECKING:
    from controlplane.services import Services

# Checked against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class UserError(ControlplaneError):
    """A user could not be created or found."""


@dataclass(frozen=True)
class UserRecord:
    """A user as the console shows and checks it: no password hash, no live ORM object."""

    id: int
    username: str
    role: str
    disabled: bool = False
    created_at: datetime | None = None
    session_generation: int = 0  # a session made in an older generation has ended

    def may(self, needed: str) -> bool:
        return has_role(self.role, needed)


def _record(user: User) -> UserRecord:
    return UserRecord(
        user.id,
        user.username,
        user.role,
        user.disabled,
        user.created_at,
        user.session_generation or 0,
    )


def validate_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise UserError("a user name is 1-64 letters, digits or . _ - @")
    return name


def create_user(services: Services, username: str, password: str, role: str) -> UserRecord:
    with services.transaction() as session:
        return _record(_create_user(session, username, password, role))


def add_in(session: Session, username: str, password: str, role: str) -> UserRecord:
    """`create_user` inside the caller's transaction (accounts.lifecycle logs it)."""
    return _record(_create_user(session, username, password, role))


def create_first_admin(services: Services, password: str) -> UserRecord | None:
    """`admin` with `password` when the database has no user at all yet; else None."""
    with services.transaction() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        return _record(_create_user(session, "admin", password, "admin"))


def _create_user(session: Session, username: str, password: str, role: str) -> User:
    name = validate_username(username)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    try:
        check_password(password, name)
    except WeakPassword as exc:
        raise UserError(str(exc)) from None
    if session.scalar(select(User).where(User.username == name)):
        raise UserError(f"user {name!r} already exists")
    user = User(
        username=name,
        password_hash=generate_password_hash(password),
        role=role,
        created_at=utcnow(),
        disabled=False,
    )
    session.add(user)
    session.flush()
    return user


def list_users(services: Services) -> list[UserRecord]:
    with services.transaction() as session:
        return [_record(u) for u in session.scalars(select(User).order_by(User.username))]


def get_user(services: Services, user_id: int) -> UserRecord | None:
    """An enabled user by id (a session's user), else None."""
    with services.transaction() as session:
        user = session.get(User, user_id)
        return None if user is None or user.disabled else _record(user)


def authenticate(services: Services, username: str, password: str) -> UserRecord | None:
    """The user when name and password match, else None; equally slow either way."""
    with services.transaction() as session:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None or user.disabled:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(user.password_hash, password):
            return None
        return _record(user)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    services: Services, username: str, name: str | None = None, expires_at: datetime | None = None
) -> str:
    """A new API token for `username`; the caller shows it once, we keep only its hash."""
    with services.transaction() as session:
        return token_in(session, username, name, expires_at)


def token_in(
    session: Session, username: str, name: str | None = None, expires_at: datetime | None = None
) -> str:
    """`create_token` inside the caller's transaction (the Users page logs it)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user named {username!r}")
    token = "cp_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=utcnow(),
            name=(name or "").strip()[:64] or None,
            expires_at=expires_at,
        )
    )
    return token


def user_for_token(services: Services, token: str) -> UserRecord | None:
    """The enabled user a live bearer token belongs to; remembered for a few seconds per
    process (`ProcessState.tokens`), so an API call costs no database write. A revocation or
    a disabled user clears this process's memory at once; other replicas forget within its
    time to live (5 s)."""
    key = hash_token(token)

    def lookup() -> UserRecord | None:
        with services.transaction() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.token_hash == key))
            if row is None or row.revoked_at is not None:
                return None
            if row.expires_at is not None and as_utc(row.expires_at) <= utcnow():  # type: ignore[operator]
                return None
            user = session.get(User, row.user_id)
            if user is None or user.disabled:
                return None
            row.last_used_at = utcnow()
            return _record(user)

    return services.state.tokens.get(lookup, key=key)


def has_role(user_role: str, needed: str) -> bool:
    """Roles are ordered: an admin may do what an operator may, an operator what a viewer may."""
    return ROLE_RANK.get(user_role, -1) >= ROLE_RANK[needed]
