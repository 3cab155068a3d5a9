"""From bytes on the wire to event dicts: kombu's JSON envelope, decoded by hand.

Celery publishes each event (or, from a prefork worker, a list of buffered task events) as a
kombu message. On Redis the pub/sub payload is a JSON envelope whose `body` is the
base64-encoded JSON event; on AMQP the message body is the JSON event itself. Anything that
is not JSON (pickle, yaml, msgpack, compressed) is refused before it is looked at: an
ingester must never unpickle what a stranger published.

JSON is parsed with orjson: three times faster than the standard library on event bodies
(about 1.3 µs against 4 µs here), and it takes the bytes as they come, checking UTF-8 itself.
It is stricter (NaN, integers past 64 bits and nesting past 1024 are refused), which for an
event only turns nonsense into a counted malformed event.
"""

from __future__ import annotations

import binascii
from typing import Any

import orjson

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
                body = binascii.a2b_base64(payload[len(_HEAD) : end], strict_mode=True)
            except (binascii.Error, ValueError):
                raise MalformedEvent("bad_envelope", "body is not base64") from None
            # decode_body for this case, inline: it runs for every event
            try:
                decoded = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise MalformedEvent(*_why_not_json(body)) from None
            if decoded.__class__ is dict:
                return [decoded]
            return _events_in(decoded)
    try:
        envelope = orjson.loads(payload)
    except orjson.JSONDecodeError:
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
            raw: bytes | str = binascii.a2b_base64(text, strict_mode=True)
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
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedEvent(*_why_not_json(body)) from None
    return _events_in(decoded)


def _events_in(decoded: Any) -> list[Any]:
    if isinstance(decoded, dict):
        return [decoded]
    if isinstance(decoded, list):
        return decoded
    raise MalformedEvent("bad_body", "neither an event nor a list of events")


def _why_not_json(body: bytes | str) -> tuple[str, str]:
    """The reason a body did not parse: its text is not UTF-8, or it is not JSON."""
    try:
        if isinstance(body, bytes):
            body.decode("utf-8")
        else:
            body.encode("utf-8")
    except UnicodeError:
        return "bad_utf8", ""
    return "bad_body", "not JSON"
