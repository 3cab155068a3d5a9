"""Users, roles, passwords and API tokens. Passwords and tokens are stored hashed only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from controlplane.errors import ControlplaneError
from controlplane.models import ROLES, ApiToken, User

# Checked against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class UserError(ControlplaneError):
    """A user could not be created or found."""


def now() -> datetime:
    return datetime.now(UTC)


def validate_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise UserError("a user name is 1-64 letters, digits or . _ - @")
    return name


def create_user(session: Session, username: str, password: str, role: str) -> User:
    name = validate_username(username)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    if session.scalar(select(User).where(User.username == name)):
        raise UserError(f"user {name!r} already exists")
    user = User(
        username=name,
        password_hash=generate_password_hash(password),
        role=role,
        created_at=now(),
        disabled=False,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when name and password match, else None; equally slow either way."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or user.disabled:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, username: str) -> str:
    """A new API token for `username`; the caller shows it once, we keep only its hash."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user named {username!r}")
    token = "cp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=now()))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    row.last_used_at = now()
    return user


def has_role(user_role: str, needed: str) -> bool:
    """Roles are ordered: an admin may do what an operator may, an operator what a viewer may."""
    return ROLE_RANK.get(user_role, -1) >= ROLE_RANK[needed]
