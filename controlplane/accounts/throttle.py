"""Slow down guessing at the login form, per address and per (user, address), across replicas.

An attempt is counted before its password is checked, in one locked transaction, so 40
guesses sent at once are counted one after the other and only the free ones are checked.
Past `login_max_failures` each failure doubles the wait (from `login_delay_seconds`, up to
the window). There is no per-user key: failures from one address never lock the user out
from another. A success forgives only its own (user, address) key; the address keeps its
count less this one attempt, so an attacker who knows one password cannot wipe the slate.
State is in the database (every replica sees it); rows quiet for a window are deleted.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.db import dialect_insert
from controlplane.models import LoginThrottle

if TYPE_CHECKING:
    from controlplane.services import Services

_PRUNE_CHANCE = 0.02  # about one attempt in fifty deletes the rows that went quiet


def address_key(address: str | None) -> str:
    return f"addr:{address or '-'}"[:200]


def user_key(username: str, address: str | None) -> str:
    return f"user:{username.strip().lower()}|{address_key(address)}"[:200]


def begin_attempt(services: Services, keys: tuple[str, ...]) -> float:
    """Count one login attempt against `keys`; 0.0 when it may go ahead, else the seconds to
    wait (and nothing is counted)."""
    settings = services.settings
    now = utcnow()
    quiet = timedelta(seconds=settings.login_window_seconds)
    with services.transaction() as session:
        rows = []
        # Key by key, the address first: a waiting address makes no row for the names it
        # sprays. The write comes first: it takes the lock (a row lock on PostgreSQL, the
        # database's write lock on SQLite) before anything is read, so attempts queue here.
        for key in sorted(keys):
            session.execute(
                dialect_insert(session, LoginThrottle)
                .values(key=key, failures=0, last_failed_at=now, next_allowed_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            row = session.scalars(
                select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
            ).one()
            if _utc(row.next_allowed_at) + quiet < now:  # a window of quiet: forgiven
                row.failures, row.next_allowed_at = 0, now
            wait = (_utc(row.next_allowed_at) - now).total_seconds()
            if wait > 0:
                return wait
            rows.append(row)
        for row in rows:
            row.failures += 1
            row.last_failed_at = now
            row.next_allowed_at = now + _delay(services, row.failures)
        if random.random() < _PRUNE_CHANCE:
            _prune(session, now - quiet - timedelta(seconds=settings.login_window_seconds))
    return 0.0


def succeeded(services: Services, username: str, address: str | None) -> None:
    """The attempt was right: forgive its (user, address) key, and take this one attempt
    (only) off the address."""
    now = utcnow()
    with services.transaction() as session:
        session.execute(
            delete(LoginThrottle).where(LoginThrottle.key == user_key(username, address))
        )
        row = session.scalars(
            select(LoginThrottle).where(LoginThrottle.key == address_key(address)).with_for_update()
        ).one_or_none()
        if row is not None and row.failures > 0:
            row.failures -= 1
            row.next_allowed_at = min(
                _utc(row.next_allowed_at), now + _delay(services, row.failures)
            )


def _utc(value: datetime) -> datetime:
    stamp = as_utc(value)
    assert stamp is not None
    return stamp


def _delay(services: Services, failures: int) -> timedelta:
    settings = services.settings
    if failures < settings.login_max_failures:
        return timedelta(0)
    doublings = min(failures - settings.login_max_failures, 30)
    seconds = min(settings.login_delay_seconds * 2**doublings, settings.login_window_seconds)
    return timedelta(seconds=seconds)


def _prune(session: Session, before: datetime) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failed_at < before))
