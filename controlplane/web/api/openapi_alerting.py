"""The OpenAPI paths of alerting (web/api/alerting.py), merged into openapi.document()
(which imports this module when it builds the document: the helpers live there)."""

from __future__ import annotations

from typing import Any

from controlplane.web.api.openapi import IDEMPOTENCY, _body, _errors, _ok

_TIME = {"type": ["string", "null"], "format": "date-time"}


def _list(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": [key],
            "properties": {key: {"type": "array", "items": item}}}  # fmt: skip


RULE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "condition"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
        "condition": {"type": "string", "description": "a condition's name (GET conditions)"},
        "queues": {"type": "string", "description": "queue glob, default *"},
        "tasks": {"type": "string", "description": "task-name glob, default *"},
        "severity": {"enum": ["critical", "warning", "info", None]},
        "for": {"type": "number", "description": "seconds it holds (pending) before firing"},
        "repeat": {"type": "number", "description": "seconds between repeats; 0: never"},
        "thresholds": {"type": "object", "description": "the condition's threshold settings"},
        "channels": {"type": "array", "items": {"type": "string"},
                     "description": "channel names; empty: every enabled channel"},
        "enabled": {"type": "boolean"},
    },
}  # fmt: skip
CHANNEL_IN: dict[str, Any] = {
    "type": "object",
    "required": ["name", "kind"],
    "description": "webhook: url, secret (HMAC key); slack: url (kept secret); email: host, "
    "port, starttls, username, password, sender, to, ca_file. An empty secret keeps the "
    "saved one; secrets are never returned.",
    "properties": {
        "name": {"type": "string"}, "kind": {"enum": ["webhook", "slack", "email"]},
        "url": {"type": "string"}, "secret": {"type": "string"},
        "host": {"type": "string"}, "port": {"type": "integer"},
        "starttls": {"type": "boolean"}, "username": {"type": "string"},
        "password": {"type": "string"}, "sender": {"type": "string"},
        "to": {"type": "array", "items": {"type": "string"}}, "ca_file": {"type": "string"},
        "enabled": {"type": "boolean"},
    },
}  # fmt: skip
CHANNEL_OUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"}, "kind": {"type": "string"}, "options": {"type": "object"},
        "secret_set": {"type": "boolean"}, "enabled": {"type": "boolean"},
        "source": {"enum": ["config", "console"]},
    },
}  # fmt: skip
SILENCE: dict[str, Any] = {
    "type": "object",
    "required": ["reason"],
    "properties": {
        "alert": {"type": "string", "description": "condition name glob, default *"},
        "subject": {"type": "string", "description": "subject glob, default *"},
        "ends_at": {"type": "string", "format": "date-time"},
        "minutes": {"type": "number", "description": "instead of ends_at"},
        "reason": {"type": "string"},
    },
}  # fmt: skip
NOTIFICATION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "the stable notification id"},
        "alert_id": {"type": ["integer", "null"]}, "channel": {"type": "string"},
        "event": {"enum": ["firing", "repeat", "resolved", "test"]},
        "status": {"enum": ["pending", "delivered", "failed"]},
        "attempts": {"type": "integer"}, "created_at": _TIME, "delivered_at": _TIME,
        "last_error": {"type": ["string", "null"]}, "subject": {"type": "string"},
    },
}  # fmt: skip

ALERT_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
CHANNEL_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
STATE_PARAM = {
    "name": "state",
    "in": "query",
    "required": False,
    "schema": {"enum": ["pending", "firing", "resolved", "all"]},
    "description": "the rules' alert states to list in `states` (default: open)",
}

ALERTING_PATHS: dict[str, Any] = {
    "/alert-rules": {
        "get": {"summary": "Alert rules (config and console) and the conditions they use",
                "responses": {"200": _ok("Rules", _list("rules", RULE))}},
        "post": {"summary": "Create or replace a console rule (admin)",
                 "parameters": [IDEMPOTENCY], "requestBody": _body(RULE),
                 "responses": {"200": _ok("Saved"), **_errors(400, 403, 415)}},
    },
    "/notification-channels": {
        "get": {"summary": "Notification channels, never their secrets (admin)",
                "responses": {"200": _ok("Channels", _list("channels", CHANNEL_OUT)),
                              **_errors(403)}},
        "post": {"summary": "Create or replace a console channel (admin)",
                 "parameters": [IDEMPOTENCY], "requestBody": _body(CHANNEL_IN),
                 "responses": {"200": _ok("Saved"), **_errors(400, 403, 415)}},
    },
    "/notification-channels/{name}/test": {
        "post": {"summary": "Send a test notification through a channel now (admin)",
                 "parameters": [CHANNEL_NAME],
                 "responses": {"200": _ok("Delivered"), "502": _ok("Not delivered"),
                               **_errors(403, 404)}},
    },
    "/alerts/{id}/ack": {
        "post": {"summary": "Acknowledge the alert behind an alert state id: no repeats while "
                            "it holds",
                 "parameters": [ALERT_ID, IDEMPOTENCY],
                 "responses": {"200": _ok("Acknowledged"), **_errors(403, 404)}},
    },
    "/silences": {
        "get": {"summary": "Silences in force",
                "responses": {"200": _ok("Silences", _list("silences", SILENCE))}},
        "post": {"summary": "Silence matching alerts until a time, with a reason (operator)",
                 "parameters": [IDEMPOTENCY], "requestBody": _body(SILENCE),
                 "responses": {"201": _ok("Created"), **_errors(400, 403, 415)}},
    },
    "/notifications": {
        "get": {"summary": "Recent notifications and their delivery (failed: undeliverable)",
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"enum": ["pending", "delivered", "failed"]}}],
                "responses": {"200": _ok("Notifications", _list("notifications", NOTIFICATION)),
                              **_errors(400)}},
    },
}  # fmt: skip
