"""Security headers on every response, and the CSRF-failure answer htmx can show."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf

# No inline scripts or styles anywhere: htmx is served from /static and configured by a meta tag.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.register_error_handler(CSRFError, csrf_failed)


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path.startswith(("/api/", "/login")) or response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def csrf_failed(error: CSRFError) -> tuple[str, int, dict[str, str]]:
    """A clear message and a fresh token (htmx swaps it into the page), never a silent failure."""
    headers = {"X-CSRFToken": generate_csrf()}
    if request.headers.get("HX-Request"):
        headers["HX-Retarget"] = "#flash"
        headers["HX-Reswap"] = "innerHTML"
        headers["HX-Trigger"] = "csrf-refreshed"
    body = render_template(
        "_flash.html",
        kind="error",
        message=f"Your security token was missing or expired ({error.description}). "
        "The page has a fresh one now: please try again.",
    )
    return body, 400, headers
