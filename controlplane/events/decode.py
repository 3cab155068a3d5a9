"""From bytes on the wire to event dicts: kombu's JSON envelope, decoded by hand.

Celery publishes each event (or, from a prefork worker, a list of buffered task events) as a
kombu message. On Redis the pub/sub payload is a JSON envelope whose `body` is the
base64-encoded JSON event; on AMQP the message body is the JSON event itself. Anything that
is not JSON (pickle, yaml, msgpack, compressed) is refused before it is looked at: an
ingester must never unpickle what a stranger published.
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode
from typing import Any

JSON_CONTENT_TYPE = "application/json"
DEFAULT_MAX_EVENT_BYTES = 1024 * 1024


class MalformedEvent(ValueError):
    """An event we skip and count; `reason` is a short label for the counters."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# kombu writes the envelope keys in this order; when the payload has exactly this shape the
# body (base64: no quotes inside) is sliced out without parsing the envelope as JSON.
_HEAD = b'{"body": "'
_AFTER_BODY = b'", "content-encoding": "utf-8", "content-type": "application/json", "headers": {'


def decode_envelope(payload: bytes, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> list[Any]:
    """The events inside one Redis pub/sub payload (a kombu envelope)."""
    if len(payload) > max_bytes:
        raise MalformedEvent("too_large", f"{len(payload)} bytes")
    if payload.startswith(_HEAD):
        end = payload.find(b'"', len(_HEAD))
        if (
            end > 0
            and payload.startswith(_AFTER_BODY, end)
            and payload.find(b'"body_encoding": "base64"', end) > 0
            and payload.find(b'"compression"', end) < 0
        ):
            try:
                body = b64decode(payload[len(_HEAD) : end], validate=True)
            except (binascii.Error, ValueError):
                raise MalformedEvent("bad_envelope", "body is not base64") from None
            return decode_body(body, JSON_CONTENT_TYPE, None, max_bytes)
    try:
        envelope = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedEvent("bad_envelope", "not JSON") from None
    if not isinstance(envelope, dict):
        raise MalformedEvent("bad_envelope", "not an object")
    properties = envelope.get("properties")
    encoding = properties.get("body_encoding") if isinstance(properties, dict) else None
    headers = envelope.get("headers")
    compression = headers.get("compression") if isinstance(headers, dict) else None
    text = envelope.get("body")
    if not isinstance(text, str):
        raise MalformedEvent("bad_envelope", "no body")
    if encoding == "base64":
        try:
            raw: bytes | str = b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedEvent("bad_envelope", "body is not base64") from None
    else:
        raw = text
    return decode_body(raw, envelope.get("content-type"), compression, max_bytes)


def decode_body(
    body: bytes | str,
    content_type: Any,
    compression: Any = None,
    max_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> list[Any]:
    """The events in a message body; only plain JSON is accepted."""
    if content_type != JSON_CONTENT_TYPE:
        raise MalformedEvent("not_json", f"content type {str(content_type)[:64]!r}")
    if compression:
        raise MalformedEvent("not_json", "compressed body")
    if len(body) > max_bytes:
        raise MalformedEvent("too_large", f"{len(body)} bytes")
    try:
        decoded = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except UnicodeDecodeError:
        raise MalformedEvent("bad_utf8") from None
    except (ValueError, RecursionError):
        raise MalformedEvent("bad_body", "not JSON") from None
    if isinstance(decoded, dict):
        return [decoded]
    if isinstance(decoded, list):
        return decoded
    raise MalformedEvent("bad_body", "neither an event nor a list of events")
