"""Access control: logins, roles, CSRF, API tokens, throttling and security headers."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from controlplane.services import Services
from tests.conftest import PASSWORD, add_user, csrf_token_of


def strip_tokens(html: str) -> str:
    return re.sub(r'(content|value)="[\w.-]{40,}"', "TOKEN", html)


PAGES = ["/", "/fragments/fleet", "/users/"]
API = ["/api/v1/me", "/api/v1/queues", "/api/v1/workers"]


def test_anonymous_pages_redirect_to_login(client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_anonymous_api_gets_401_json(client: FlaskClient) -> None:
    for path in API:
        response = client.get(path)
        assert response.status_code == 401, path
        assert "error" in response.get_json()
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_health_endpoints_need_no_login(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_login_then_dashboard(client: FlaskClient, services: Services) -> None:
    add_user(services, "alice", "viewer")
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "alice" in page.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(
    client_as: Callable[[str], FlaskClient], services: Services
) -> None:
    admin = client_as("admin")
    response = admin.post(
        "/users/",
        data={"username": "mallory", "password": "violet quarry lantern", "role": "admin"},
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert response.headers.get("X-CSRFToken"), "a fresh token comes back with the refusal"
    # and nothing was created
    assert "mallory" not in admin.get("/users/").get_data(as_text=True)


def test_htmx_post_with_csrf_header_is_accepted(client_as: Callable[[str], FlaskClient]) -> None:
    admin = client_as("admin")
    response = admin.post(
        "/users/",
        data={"username": "bob", "password": "violet quarry lantern", "role": "viewer"},
        headers={"X-CSRFToken": admin.csrf_token, "HX-Request": "true"},  # type: ignore[attr-defined]
    )
    assert response.status_code == 302
    assert "bob" in admin.get("/users/").get_data(as_text=True)


def test_login_form_without_csrf_is_refused(client: FlaskClient, services: Services) -> None:
    add_user(services, "carol", "viewer")
    response = client.post("/login", data={"username": "carol", "password": PASSWORD})
    assert response.status_code == 400


def test_viewer_cannot_reach_admin_pages(client_as: Callable[[str], FlaskClient]) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/").status_code == 200
    assert viewer.get("/users/").status_code == 403
    response = viewer.post(
        "/users/",
        data={
            "username": "eve",
            "password": "violet quarry lantern",
            "role": "admin",
            "csrf_token": viewer.csrf_token,
        },  # type: ignore[attr-defined]
    )
    assert response.status_code == 403
    assert "Users</a>" not in viewer.get("/").get_data(as_text=True)


def test_wrong_password_does_not_reveal_whether_the_user_exists(
    client: FlaskClient, services: Services
) -> None:
    add_user(services, "dave", "viewer")
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    known = client.post(
        "/login", data={"username": "dave", "password": "wrong-password", "csrf_token": token}
    )
    unknown = client.post(
        "/login", data={"username": "nobody", "password": "wrong-password", "csrf_token": token}
    )
    assert known.status_code == unknown.status_code == 200
    assert "Wrong user name or password." in known.get_data(as_text=True)
    # identical pages but for the (time-stamped) CSRF token
    assert strip_tokens(known.get_data(as_text=True)) == strip_tokens(
        unknown.get_data(as_text=True)
    )


def test_repeated_failed_logins_are_slowed_down(app: Flask, services: Services) -> None:
    add_user(services, "frank", "viewer")
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    limit = services.settings.login_max_failures
    for _ in range(limit):
        response = client.post(
            "/login", data={"username": "frank", "password": "nope-nope", "csrf_token": token}
        )
        assert response.status_code == 200 and "Wrong user name" in response.get_data(as_text=True)
    blocked = client.post(
        "/login", data={"username": "frank", "password": PASSWORD, "csrf_token": token}
    )
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.get_data(as_text=True)


def test_open_redirect_after_login_is_ignored(client: FlaskClient, services: Services) -> None:
    add_user(services, "grace", "viewer")
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={
            "username": "grace",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_api_token_authenticates_and_roles_apply(
    client: FlaskClient, token_for: Callable[[str], str]
) -> None:
    token = token_for("viewer")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "viewer"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer cp_not-a-token"})
    assert bad.status_code == 401


def test_logout_needs_a_post_with_csrf(client_as: Callable[[str], FlaskClient]) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/logout").status_code == 405
    response = viewer.post("/logout", data={"csrf_token": viewer.csrf_token})  # type: ignore[attr-defined]
    assert response.status_code == 302
    assert viewer.get("/").status_code == 302


def test_security_headers_and_cookie_flags(client: FlaskClient, services: Services) -> None:
    page = client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    add_user(services, "heidi", "viewer")
    token = csrf_token_of(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "heidi", "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
