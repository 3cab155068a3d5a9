"""A database outage answers 503 in words: JSON on the API, a plain page in the console.

Services raise DatabaseUnavailable when the database does not answer (services.transaction);
without this handler Flask would show "500 Internal Server Error" and log a traceback per
request. The page stands alone, built without templates: Flask's template context (the
logged-in user, the nav) would ask the database again.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request, url_for
from markupsafe import escape

from controlplane.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER = "5"


def init_app(app: Flask) -> None:
    app.register_error_handler(DatabaseUnavailable, database_unavailable)


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def database_unavailable(error: DatabaseUnavailable) -> Any:
    log.warning("%s %s: %s", request.method, request.path, error)
    headers = {"Retry-After": RETRY_AFTER}
    message = "the console's database is not answering; nothing was changed, try again shortly"
    if wants_json():
        response = jsonify(error=message, unavailable="database", detail=str(error))
        return response, 503, headers
    if request.headers.get("HX-Request"):
        headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        return f'<p class="flash error">{escape(message.capitalize())}.</p>', 503, headers
    return unavailable_page("database", message), 503, headers


def unavailable_page(what: str, message: str) -> str:
    css = escape(url_for("static", filename="app.css"))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Unavailable · controlplane</title><link rel="stylesheet" href="{css}">'
        f"</head><body><main><h1>The {escape(what)} is not answering</h1>"
        f"<p>{escape(message.capitalize())}.</p>"
        '<p class="muted">This page does not refresh by itself: reload it in a moment.</p>'
        "</main></body></html>\n"
    )
