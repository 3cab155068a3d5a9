"""Flask's signed-cookie sessions, without rebuilding the signer on every request.

Flask builds a new itsdangerous serializer for each request, even one without a cookie: an
API call with a bearer token paid for it on every request (about 3% of `POST /api/v1/tasks`,
`bench/dispatch.py`). Here a request without a cookie gets an empty session straight away, and
the serializer is built once per set of keys.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSignerSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._signers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        signer = self._signers.get(keys)
        if signer is None and keys not in self._signers:
            signer = self._signers[keys] = super().get_signing_serializer(app)
        return signer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
