"""`[controlplane.alerts]`: rules, channels and delivery settings from the config file (or the
CONTROLPLANE_ALERTS JSON object), parsed once at start-up like every other setting.

Pure data and parsing, importing nothing else of controlplane but `errors`, so that
`config.Settings` can hold an `AlertsConfig` without an import cycle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controlplane.errors import SettingsError

CHANNEL_KINDS = ("webhook", "slack", "email")
SEVERITIES = ("critical", "warning", "info")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
GLOB_MAX = 255


@dataclass(frozen=True)
class Rule:
    """When a condition's instances notify: where (globs), how loud, after how long, how often.

    `thresholds` overrides the condition's threshold settings (Settings field -> number) for
    this rule only; `channels` empty means every enabled channel.
    """

    name: str
    condition: str
    queues: str = "*"
    tasks: str = "*"
    severity: str | None = None
    for_seconds: float = 0.0
    repeat_seconds: float = 0.0
    thresholds: Mapping[str, float] = field(default_factory=dict, hash=False)
    channels: tuple[str, ...] = ()
    enabled: bool = True
    source: str = "config"  # "config" (read-only on the page) or "console"


@dataclass(frozen=True)
class Channel:
    """Where notifications go. `secret` is the webhook's HMAC key, the Slack webhook URL or the
    SMTP password: kept out of repr, pages, answers and the log."""

    name: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    secret: str | None = field(default=None, repr=False)
    enabled: bool = True
    source: str = "config"


@dataclass(frozen=True)
class AlertsConfig:
    rules: tuple[Rule, ...] = ()
    channels: tuple[Channel, ...] = ()
    delivery_attempts: int = 5  # tries per notification before it is marked undeliverable
    delivery_backoff_seconds: float = 30.0  # the wait after the first failure, doubled each time
    delivery_timeout_seconds: float = 10.0  # one HTTP request or SMTP session
    public_url: str | None = None  # the console's address, to make links absolute


# ---- parsing -------------------------------------------------------------------------------


def parse_alerts(raw: Any, where: str) -> AlertsConfig:
    """The `alerts` table (TOML) or JSON object (environment) -> AlertsConfig."""
    table = _table(raw, where)
    known = {"rules", "channels", "delivery_attempts", "delivery_backoff_seconds",
             "delivery_timeout_seconds", "public_url"}  # fmt: skip
    _no_unknown(table, known, where)
    rules = tuple(
        parse_rule(name, _table(body, f"{where}.rules.{name}"), f"{where}.rules.{name}")
        for name, body in _table(table.get("rules", {}), f"{where}.rules").items()
    )
    channels = tuple(
        parse_channel(name, _table(body, f"{where}.channels.{name}"), f"{where}.channels.{name}")
        for name, body in _table(table.get("channels", {}), f"{where}.channels").items()
    )
    return AlertsConfig(
        rules=rules,
        channels=channels,
        delivery_attempts=int(_number(table.get("delivery_attempts", 5), where, 1, 100)),
        delivery_backoff_seconds=_number(table.get("delivery_backoff_seconds", 30.0), where, 0),
        delivery_timeout_seconds=_number(table.get("delivery_timeout_seconds", 10.0), where, 0.1),
        public_url=_optional_text(table.get("public_url"), f"{where}.public_url"),
    )


def parse_rule(name: str, body: Mapping[str, Any], where: str, source: str = "config") -> Rule:
    """One rule; raises SettingsError naming the field that is wrong."""
    _check_name(name, where)
    known = {"condition", "queues", "tasks", "severity", "for", "for_seconds", "repeat",
             "repeat_seconds", "thresholds", "channels", "enabled"}  # fmt: skip
    _no_unknown(body, known, where)
    condition = body.get("condition")
    if not isinstance(condition, str) or not NAME.match(condition):
        raise SettingsError(f"{where}.condition: expected a condition name, got {condition!r}")
    severity = body.get("severity") or None
    if severity is not None and severity not in SEVERITIES:
        raise SettingsError(f"{where}.severity: expected one of {', '.join(SEVERITIES)}")
    thresholds = _table(body.get("thresholds", {}), f"{where}.thresholds")
    channels = body.get("channels", [])
    if isinstance(channels, str):
        channels = [c.strip() for c in channels.split(",") if c.strip()]
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise SettingsError(f"{where}.channels: expected a list of channel names")
    for channel in channels:
        _check_name(channel, f"{where}.channels")
    return Rule(
        name=name,
        condition=condition,
        queues=_glob(body.get("queues", "*"), f"{where}.queues"),
        tasks=_glob(body.get("tasks", "*"), f"{where}.tasks"),
        severity=severity,
        for_seconds=_number(body.get("for", body.get("for_seconds", 0)), f"{where}.for", 0),
        repeat_seconds=_number(
            body.get("repeat", body.get("repeat_seconds", 0)), f"{where}.repeat", 0
        ),
        thresholds={
            key: _number(value, f"{where}.thresholds.{key}", 0) for key, value in thresholds.items()
        },
        channels=tuple(channels),
        enabled=_bool(body.get("enabled", True), f"{where}.enabled"),
        source=source,
    )


# what each kind keeps in `options`, and which key is its secret
CHANNEL_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "webhook": (("url",), "secret"),
    "slack": ((), "url"),
    "email": (("host", "port", "starttls", "username", "sender", "to", "ca_file"), "password"),
}


def parse_channel(
    name: str, body: Mapping[str, Any], where: str, source: str = "config"
) -> Channel:
    """One channel; raises SettingsError naming the field that is wrong."""
    _check_name(name, where)
    kind = body.get("kind")
    if kind not in CHANNEL_FIELDS:
        raise SettingsError(f"{where}.kind: expected one of {', '.join(CHANNEL_KINDS)}")
    fields, secret_key = CHANNEL_FIELDS[kind]
    _no_unknown(body, {"kind", "enabled", secret_key, *fields}, where)
    options: dict[str, Any] = {}
    if kind == "webhook":
        options["url"] = _url(body.get("url"), f"{where}.url")
    elif kind == "email":
        host = body.get("host")
        if not isinstance(host, str) or not host:
            raise SettingsError(f"{where}.host: expected the SMTP server's host name")
        to = body.get("to", [])
        if isinstance(to, str):
            to = [a.strip() for a in to.split(",") if a.strip()]
        if not to or not all(isinstance(a, str) and "@" in a for a in to):
            raise SettingsError(f"{where}.to: expected one or more email addresses")
        sender = body.get("sender")
        if not isinstance(sender, str) or "@" not in sender:
            raise SettingsError(f"{where}.sender: expected an email address")
        options.update(
            host=host,
            port=int(_number(body.get("port", 587), f"{where}.port", 1, 65535)),
            starttls=_bool(body.get("starttls", True), f"{where}.starttls"),
            username=_optional_text(body.get("username"), f"{where}.username"),
            sender=sender,
            to=list(to),
            ca_file=_optional_text(body.get("ca_file"), f"{where}.ca_file"),
        )
    secret = _optional_text(body.get(secret_key), f"{where}.{secret_key}")
    if kind == "slack":
        if secret is None:
            raise SettingsError(f"{where}.url: expected the Slack incoming webhook URL")
        _url(secret, f"{where}.url")
    return Channel(name, kind, options, secret, _bool(body.get("enabled", True), where), source)


def _table(raw: Any, where: str) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise SettingsError(f"{where}: expected a JSON object ({exc})") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: expected a table, got {type(raw).__name__}")
    return raw


def _no_unknown(body: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise SettingsError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )


def _check_name(name: Any, where: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise SettingsError(f"{where}: a name is 1-64 letters, digits, '.', '_' or '-'")


def _number(raw: Any, where: str, minimum: float, maximum: float | None = None) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected a number, got {raw!r}") from None
    if isinstance(raw, bool) or value != value or value < minimum:
        raise SettingsError(f"{where}: expected a number >= {minimum}, got {raw!r}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{where}: expected a number <= {maximum}, got {raw!r}")
    return value


def _bool(raw: Any, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    truth = {"1": True, "true": True, "yes": True, "on": True,
             "0": False, "false": False, "no": False, "off": False}  # fmt: skip
    if isinstance(raw, str) and raw.lower() in truth:
        return truth[raw.lower()]
    raise SettingsError(f"{where}: expected true or false, got {raw!r}")


def _glob(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > GLOB_MAX:
        raise SettingsError(f"{where}: expected a glob pattern of 1-{GLOB_MAX} characters")
    return raw.strip()


def _optional_text(raw: Any, where: str) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 2048:
        raise SettingsError(f"{where}: expected text")
    return raw


def _url(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not re.match(r"^https?://[^\s]+$", raw) or len(raw) > 2048:
        raise SettingsError(f"{where}: expected an http(s) URL")
    return raw
