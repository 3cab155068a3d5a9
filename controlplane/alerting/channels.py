"""Sending one notification to one channel: a generic webhook (JSON, HMAC-SHA256 signature),
a Slack-compatible incoming webhook, or email over SMTP (STARTTLS, login).

Every request carries the stable notification id (`X-Controlplane-Notification-Id`, and the
email's Message-ID), so a receiver that sees it twice after a leader takeover can drop the
copy. Errors become `DeliveryError` with a short reason that never contains the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from controlplane.alerting import messages
from controlplane.alerting.config import Channel
from controlplane.errors import ControlplaneError

ID_HEADER = "X-Controlplane-Notification-Id"
SIGNATURE_HEADER = "X-Controlplane-Signature"  # "sha256=" + hex HMAC of the raw body
EVENT_HEADER = "X-Controlplane-Event"
USER_AGENT = "controlplane-alerts/1"
ANSWER_MAX = 200  # characters of the receiver's answer kept in an attempt's record


class DeliveryError(ControlplaneError):
    """The channel did not take the notification; the reason is safe to store and show."""


def sign(secret: str, raw: bytes) -> str:
    """The signature header's value; receivers recompute it over the raw body they got."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def send(channel: Channel, payload: dict[str, Any], timeout: float) -> str:
    """Deliver `payload` (messages.body) through `channel`; return what the other side said."""
    if channel.kind == "webhook":
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {SIGNATURE_HEADER: sign(channel.secret, raw)} if channel.secret else {}
        return _post(str(channel.options["url"]), raw, payload, headers, timeout)
    if channel.kind == "slack":
        if not channel.secret:
            raise DeliveryError("no Slack webhook URL saved")
        raw = json.dumps(messages.slack(payload)).encode()
        return _post(channel.secret, raw, payload, {}, timeout)
    if channel.kind == "email":
        return _mail(channel, payload, timeout)
    raise DeliveryError(f"unknown channel kind {channel.kind!r}")


def _post(
    url: str, raw: bytes, payload: dict[str, Any], extra: dict[str, str], timeout: float
) -> str:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        ID_HEADER: str(payload["id"]),
        EVENT_HEADER: str(payload["event"]),
        **extra,
    }
    # http(s) only: config.parse_channel refuses any other scheme when a channel is saved
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            status = answer.status
            said = answer.read(ANSWER_MAX).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        said = exc.read(ANSWER_MAX).decode("utf-8", "replace") if exc.fp else ""
        raise DeliveryError(f"HTTP {exc.code} {said}".strip()[:ANSWER_MAX]) from None
    except ValueError:  # its message quotes the URL, which is the secret of a Slack channel
        raise DeliveryError("the URL is not valid") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(exc).__name__}: {reason}"[:ANSWER_MAX]) from None
    return f"HTTP {status} {said}".strip()[:ANSWER_MAX]


def _mail(channel: Channel, payload: dict[str, Any], timeout: float) -> str:
    options = channel.options
    message = EmailMessage()
    message["Subject"] = messages.headline(payload)[:200]
    message["From"] = options["sender"]
    message["To"] = ", ".join(options["to"])
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{payload['id']}@controlplane>"
    message[ID_HEADER] = str(payload["id"])
    message.set_content(messages.text(payload))
    try:
        with smtplib.SMTP(options["host"], int(options["port"]), timeout=timeout) as smtp:
            smtp.ehlo()
            if options.get("starttls", True):
                context = ssl.create_default_context(cafile=options.get("ca_file") or None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if options.get("username"):
                smtp.login(options["username"], channel.secret or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {_smtp_reason(exc)}") from None
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}"[:ANSWER_MAX]) from None
    if refused:
        raise DeliveryError(f"SMTP refused {', '.join(sorted(refused))}"[:ANSWER_MAX])
    return f"SMTP accepted for {len(options['to'])} recipient(s)"


def _smtp_reason(exc: smtplib.SMTPException) -> str:
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", b"")
    said = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return (f"{code} {said}" if code else str(exc))[:ANSWER_MAX]
