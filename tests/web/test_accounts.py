"""Accounts (issue 15 items 12-15): the login throttle, sessions that end, the lifecycle of
users and tokens (CLI and Users page, each in the action log), and the password policy."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select

from controlplane import db, users
from controlplane.accounts import lifecycle, throttle
from controlplane.accounts.passwords import MAX_LENGTH
from controlplane.accounts.tokens import list_tokens
from controlplane.cli import main
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.control.action_log import list_actions
from controlplane.models import Action, LoginThrottle
from controlplane.services import Services, build_services
from controlplane.web import create_app
from tests.conftest import PASSWORD, add_user, csrf_token_of, log_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Throttled guesses wait 10 minutes here: longer than any test takes on a loaded machine,
    so a guess never gets through because a short delay ran out."""
    return dataclasses.replace(settings, login_delay_seconds=600.0)


def login_from(app: Flask, address: str, username: str, password: str) -> int:
    """One login attempt through the form from `address`; its status (302 in, 200 wrong,
    429 throttled)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    return response.status_code


# ---- 12. the login throttle ------------------------------------------------------------------


def test_failures_from_one_address_never_lock_the_user_out_elsewhere(
    app: Flask, services: Services
) -> None:
    add_user(services, "admin1", "admin")
    limit = services.settings.login_max_failures
    statuses = [login_from(app, "10.0.0.66", "admin1", "wrong guess") for _ in range(limit + 3)]
    assert statuses[:limit] == [200] * limit and set(statuses[limit:]) == {429}
    # the attacker's address waits, with the right password too...
    assert login_from(app, "10.0.0.66", "admin1", PASSWORD) == 429
    # ...while the admin, from an address that did not fail, logs in at once
    assert login_from(app, "10.0.0.7", "admin1", PASSWORD) == 302


def test_behind_a_proxy_the_throttle_counts_the_clients_address(settings: Settings) -> None:
    services = build_services(dataclasses.replace(settings, proxy_hops=1))
    db.upgrade(services.engine)
    app = create_app(services, {"TESTING": True})
    add_user(services, "quinn", "operator")

    def attempt(client_address: str, password: str) -> int:
        client = app.test_client()
        headers = {"X-Forwarded-For": client_address}
        token = csrf_token_of(client.get("/login", headers=headers).get_data(as_text=True))
        return client.post(
            "/login",
            data={"username": "quinn", "password": password, "csrf_token": token},
            headers=headers,
        ).status_code

    limit = services.settings.login_max_failures
    assert [attempt("203.0.113.9", "guess") for _ in range(limit + 1)][-1] == 429
    assert attempt("198.51.100.4", PASSWORD) == 302  # same proxy, another client
    services.close()


def test_delays_grow_with_each_failure_past_the_free_ones(settings: Settings) -> None:
    quick = dataclasses.replace(settings, login_max_failures=2, login_delay_seconds=0.2)
    services = build_services(quick)
    db.upgrade(services.engine)
    try:
        keys = (throttle.address_key("10.1.1.1"),)
        waits = []
        for _ in range(5):
            deadline = time.monotonic() + 30
            while (wait := throttle.begin_attempt(services, keys)) > 0:
                waits.append(wait)
                assert time.monotonic() < deadline
                time.sleep(wait)
        # the first refusal after each counted failure: about 0.2, 0.4, 0.8 s
        with services.transaction() as session:
            row = session.get(LoginThrottle, keys[0])
            assert row is not None and row.failures == 5
            span = (row.next_allowed_at - row.last_failed_at).total_seconds()
        assert span == pytest.approx(0.2 * 2 ** (5 - 2), rel=0.01)
        assert waits and max(waits) > 0.4
    finally:
        services.close()


def test_an_attackers_own_success_does_not_reset_the_address(settings: Settings) -> None:
    # A delay longer than this test can take on a loaded machine: a throttled guess must not
    # get through because the first doubling already ran out.
    services = build_services(dataclasses.replace(settings, login_delay_seconds=600.0))
    db.upgrade(services.engine)
    app = create_app(services, {"TESTING": True})
    add_user(services, "victim", "admin")
    add_user(services, "attacker", "viewer")
    limit = services.settings.login_max_failures
    address = "10.0.0.99"
    for _ in range(limit - 1):
        assert login_from(app, address, "victim", "guess") == 200
    assert login_from(app, address, "attacker", PASSWORD) == 302
    # a reset would give `limit` fresh guesses; the address has one left
    assert login_from(app, address, "victim", "guess") == 200
    assert login_from(app, address, "victim", "guess") == 429
    services.close()


def test_forty_guesses_at_once_check_at_most_the_free_ones(
    settings: Settings, database_url: str
) -> None:
    services = build_services(dataclasses.replace(settings, database_url=database_url))
    db.upgrade(services.engine)
    app = create_app(services, {"TESTING": True})
    add_user(services, "target", "admin")
    statuses: list[int] = []
    start = threading.Barrier(40)

    def guess(n: int) -> None:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.0.40"
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        start.wait()
        response = client.post(
            "/login", data={"username": "target", "password": f"guess {n}", "csrf_token": token}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(statuses) == 40
    checked = statuses.count(200)  # a password was compared (and was wrong)
    assert 1 <= checked <= services.settings.login_max_failures, statuses
    assert statuses.count(429) == 40 - checked
    services.close()


def test_the_throttle_holds_across_replicas_and_after_100000_fresh_names(
    settings: Settings, database_url: str
) -> None:
    slow = dataclasses.replace(settings, database_url=database_url)
    services, other = build_services(slow), build_services(slow)  # two replicas, one database
    db.upgrade(services.engine)
    try:
        address = throttle.address_key("10.0.0.5")
        for _ in range(settings.login_max_failures):
            assert throttle.begin_attempt(services, (address,)) == 0
        assert throttle.begin_attempt(other, (address,)) > 0
        # a waiting address spraying names leaves no row for them
        sprayed = throttle.user_key("sprayed-name", "10.0.0.5")
        assert throttle.begin_attempt(services, (address, sprayed)) > 0
        with services.transaction() as session:
            assert session.get(LoginThrottle, sprayed) is None
        now = utcnow()
        fresh = [
            {"key": f"user:n{n}|addr:10.9.{n // 250}.{n % 250}", "failures": 1,
             "last_failed_at": now, "next_allowed_at": now}
            for n in range(100_000)
        ]  # fmt: skip
        with services.transaction() as session:
            session.execute(insert(LoginThrottle), fresh)
            throttle._prune(session, now - timedelta(hours=1))  # what attempts do now and then
            assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 100_001
        assert throttle.begin_attempt(other, (address,)) > 0
        assert throttle.begin_attempt(services, (address,)) > 0
    finally:
        other.close()
        services.close()


# ---- 13. sessions end ------------------------------------------------------------------------


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("controlplane_session")
    assert cookie is not None
    thief.set_cookie("controlplane_session", cookie.value)
    return thief


def revoke_as(client: FlaskClient, token: str) -> int:
    response = client.post("/tasks/some-task/revoke", data={"csrf_token": token})
    return response.status_code


def revokes_logged(services: Services) -> int:
    with services.transaction() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Action).where(Action.action == "revoke")
            )
            or 0
        )


def test_a_cookie_copied_before_logout_stops_working(
    app: Flask, services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    operator = client_as("operator")
    token = operator.csrf_token  # type: ignore[attr-defined]
    thief = copy_of(app, operator)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    operator.post("/logout", data={"csrf_token": token})
    assert thief.get("/").status_code == 302
    before = revokes_logged(services)
    assert revoke_as(thief, token) in (302, 400, 401, 403)
    assert revokes_logged(services) == before, "the copied cookie acted after logout"


@pytest.mark.parametrize("change", ["passwd", "disable"])
def test_a_new_password_or_disabling_ends_every_session_at_once(
    app: Flask, services: Services, client_as: Callable[[str], FlaskClient], change: str
) -> None:
    operator = client_as("operator")
    second = copy_of(app, operator)
    name = operator.username  # type: ignore[attr-defined]
    if change == "passwd":
        result = lifecycle.set_password(services, "admin", name, "an entirely new passphrase")
    else:
        result = lifecycle.disable(services, "admin", name)
    assert result.ok, result.body
    assert operator.get("/").status_code == 302
    assert second.get("/").status_code == 302


def test_the_csrf_token_changes_at_login(app: Flask, services: Services) -> None:
    add_user(services, "ivan", "operator")
    client = app.test_client()
    before = csrf_token_of(client.get("/login").get_data(as_text=True))
    after = log_in(client, "ivan")
    assert after != before
    assert revoke_as(client, before) == 400  # the token from before login is dead
    assert revokes_logged(services) == 0


# ---- 14. lifecycle of users and tokens --------------------------------------------------------


def cli(settings: Settings, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {"CONTROLPLANE_DATABASE_URL": settings.database_url or "",
           "CONTROLPLANE_BROKER_URL": settings.broker_url or ""}  # fmt: skip
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_users_cli_lifecycle_each_in_the_action_log(
    app: Flask, settings: Settings, services: Services
) -> None:
    code, out = cli(settings, "users", "--help")
    for command in ("list", "disable", "enable", "role", "passwd", "revoke-tokens"):
        assert f"  {command} " in out, out
    code, out = cli(settings, "users", "add", "judy", "--password-stdin", stdin="qwerty123\n")
    assert code == 2 and "common" in out  # the policy applies at `users add`
    assert cli(settings, "users", "add", "judy", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    assert cli(settings, "users", "role", "judy", "operator")[0] == 0
    assert cli(settings, "users", "disable", "judy")[0] == 0
    assert "judy\toperator\tdisabled" in cli(settings, "users", "list")[1]
    assert login_from(app, "10.0.1.1", "judy", PASSWORD) == 200  # disabled: wrong
    assert cli(settings, "users", "enable", "judy")[0] == 0
    code, out = cli(settings, "users", "passwd", "judy", "--password-stdin", stdin="password1\n")
    assert code == 2 and "common password" in out
    new = "judy's brand new passphrase"
    assert cli(settings, "users", "passwd", "judy", "--password-stdin", stdin=new + "\n")[0] == 0
    assert login_from(app, "10.0.1.2", "judy", new) == 302
    code, token = cli(settings, "users", "token", "judy", "--name", "deploy bot")
    assert code == 0
    assert "deploy bot" in cli(settings, "users", "tokens", "judy")[1]
    assert cli(settings, "users", "revoke-tokens", "judy")[0] == 0
    actions = [(a.actor, a.action, a.target) for a in list_actions(services, {}, limit=50).rows]
    for action in ("user.add", "user.role", "user.disable", "user.enable", "user.passwd",
                   "user.revoke-tokens"):  # fmt: skip
        assert ("cli", action, "judy") in actions, actions


def test_a_revoked_token_stops_here_at_once_and_on_another_replica_within_5_s(
    app: Flask, settings: Settings, services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    add_user(services, "kim", "operator")
    token = users.create_token(services, "kim", name="ci")
    replica_services = build_services(settings)
    replica = create_app(replica_services, {"TESTING": True}).test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
        assert replica.get("/api/v1/me", headers=bearer).status_code == 200  # now remembered
        admin = client_as("admin")
        page = admin.get("/users/").get_data(as_text=True)
        assert "ci" in page and "never" in page  # name, expiry
        (listed,) = [t for t in list_tokens(services) if t.username == "kim"]
        assert listed.last_used_at is not None
        response = admin.post(
            f"/users/tokens/{listed.id}/revoke",
            data={"csrf_token": admin.csrf_token},  # type: ignore[attr-defined]
        )
        assert response.status_code == 302
        assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
        deadline = time.monotonic() + 5.5
        while replica.get("/api/v1/me", headers=bearer).status_code != 401:
            assert time.monotonic() < deadline, "the other replica still takes the token"
            time.sleep(0.2)
        logged = [(a.actor, a.action, a.target) for a in list_actions(services, {}, limit=10).rows]
        assert (admin.username, "token.revoke", str(listed.id)) in logged  # type: ignore[attr-defined]
    finally:
        replica_services.close()


def test_an_expired_token_is_refused(app: Flask, services: Services) -> None:
    add_user(services, "leo", "viewer")
    token = users.create_token(services, "leo", expires_at=utcnow() - timedelta(seconds=1))
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_users_page_disables_a_user_in_the_action_log(
    app: Flask, services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    admin = client_as("admin")
    victim = client_as("viewer")
    name = victim.username  # type: ignore[attr-defined]
    response = admin.post(
        f"/users/{name}/disable",
        data={"csrf_token": admin.csrf_token},  # type: ignore[attr-defined]
    )
    assert response.status_code == 302
    assert victim.get("/").status_code == 302  # their session ended
    (entry,) = [a for a in list_actions(services, {}, limit=10).rows if a.action == "user.disable"]
    assert entry.actor == admin.username and entry.target == name  # type: ignore[attr-defined]
    assert entry.outcome == "ok"


# ---- 15. password policy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 8"),
        ("aaaaaaaaaaaaaaaa", "one character repeated"),
        ("password123", "common"),
        ("qwertyuiop", "common"),
        ("iloveyou2", "common"),
        ("x7!" * 100, f"at most {MAX_LENGTH}"),
    ],
)
def test_weak_passwords_are_refused_at_add_and_passwd(
    services: Services, password: str, reason: str
) -> None:
    with pytest.raises(users.UserError, match=reason):
        users.create_user(services, "mike", password, "viewer")
    add_user(services, "nina", "viewer")
    result = lifecycle.set_password(services, "admin", "nina", password)
    assert result.status == 400 and reason in result.body["error"]
    assert users.authenticate(services, "nina", PASSWORD) is not None  # unchanged


def test_the_longest_password_allowed_can_log_in(app: Flask, services: Services) -> None:
    longest = ("Correct Horse 7 Battery Staple " * 20)[:MAX_LENGTH]
    users.create_user(services, "olga", longest, "viewer")
    assert login_from(app, "10.0.2.1", "olga", longest) == 302


def test_users_page_issues_a_named_expiring_token_shown_once(
    app: Flask, services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    admin = client_as("admin")
    add_user(services, "rita", "operator")
    answer = admin.post(
        "/users/rita/tokens",
        data={"name": "ci-bot", "expires_in_days": "1", "csrf_token": admin.csrf_token},  # type: ignore[attr-defined]  # fmt: skip
    )
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    found = re.search(r"\b(cp_[\w-]{20,})", answer.get_data(as_text=True))
    assert found, "the new token is shown"
    token = found.group(1)
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    (listed,) = [t for t in list_tokens(services) if t.username == "rita"]
    assert listed.name == "ci-bot" and listed.expires_at is not None
    assert token not in admin.get("/users/").get_data(as_text=True)  # shown once only
    logged = [a for a in list_actions(services, {}, limit=20).rows if a.action == "token.issue"]
    assert len(logged) == 1 and "ci-bot" in (logged[0].params or "")
    assert token not in json.dumps([a.params for a in logged] + [a.error for a in logged])
