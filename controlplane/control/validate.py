"""Checking a trigger request before anything is sent: every refusal names the problem."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from controlplane.broker.queue_names import QUEUE_NAME, check_queue_name
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.errors import ActionError, PayloadTooLarge

TASK_NAME = re.compile(r"[\w.:\-]{1,255}")
# JSON strings, skipped when counting brackets (escapes included).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


@dataclass(frozen=True)
class TriggerRequest:
    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str | None = None
    countdown: float | None = None
    eta: datetime | None = None
    priority: int | None = None

    def as_params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "args": self.args,
            "kwargs": self.kwargs,
            "queue": self.queue,
            "countdown": self.countdown,
            "eta": self.eta.isoformat() if self.eta else None,
            "priority": self.priority,
        }


def parse_trigger(
    payload: Any, settings: Settings, now: datetime | None = None, broker_is_redis: bool = True
) -> TriggerRequest:
    """A TriggerRequest from a JSON object, or ActionError saying what is wrong with it."""
    now = now or utcnow()
    if not isinstance(payload, dict):
        raise ActionError("the request body must be a JSON object")
    unknown = sorted(set(payload) - {"name", "args", "kwargs", "queue", "countdown", "eta",
                                     "priority"})  # fmt: skip
    if unknown:
        raise ActionError(f"unknown field(s): {', '.join(unknown)}")

    name = payload.get("name")
    if not isinstance(name, str) or not TASK_NAME.fullmatch(name):
        raise ActionError("name: expected a task name such as 'proj.tasks.add'")
    args = payload.get("args", [])
    if args is None:
        args = []
    if not isinstance(args, list):
        raise ActionError(f"args: expected a JSON list, got {type(args).__name__}")
    kwargs = payload.get("kwargs", {})
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise ActionError(f"kwargs: expected a JSON object, got {type(kwargs).__name__}")
    check_depth(args, "args", settings.max_arg_depth)
    check_depth(kwargs, "kwargs", settings.max_arg_depth)

    size = len(json.dumps([args, kwargs]).encode("utf-8"))
    if size > settings.max_payload_bytes:
        raise PayloadTooLarge(
            f"args and kwargs are {size} bytes; the limit is {settings.max_payload_bytes}"
        )

    queue = payload.get("queue") or None
    if queue is not None:
        queue = check_queue_name(queue, settings)

    countdown = payload.get("countdown")
    eta_text = payload.get("eta")
    if countdown not in (None, "") and eta_text not in (None, ""):
        raise ActionError("give countdown or eta, not both")
    delay: float | None = None
    parsed_countdown: float | None = None
    eta: datetime | None = None
    if countdown not in (None, ""):
        parsed_countdown = _number(countdown, "countdown")
        if parsed_countdown < 0:
            raise ActionError("countdown: must be zero or more seconds")
        delay = parsed_countdown
    if eta_text not in (None, ""):
        eta = _eta(eta_text)
        delay = (eta - now).total_seconds()
        if delay < -settings.eta_tolerance_seconds:
            raise ActionError(
                f"eta: {eta.isoformat()} is {-delay:.0f} s in the past "
                f"(tolerance {settings.eta_tolerance_seconds:.0f} s)"
            )
    if broker_is_redis and delay is not None and delay > settings.visibility_timeout:
        raise ActionError(
            f"the task would wait {delay:.0f} s, longer than the Redis transport's "
            f"visibility_timeout ({settings.visibility_timeout:.0f} s): the broker would deliver "
            "it a second time. Raise visibility_timeout or schedule it closer."
        )

    priority = payload.get("priority")
    parsed_priority: int | None = None
    if priority not in (None, ""):
        try:
            parsed_priority = int(priority)
        except (TypeError, ValueError):
            parsed_priority = -1
        if isinstance(priority, bool) or not 0 <= parsed_priority <= 9:
            raise ActionError("priority: expected an integer from 0 to 9")
    return TriggerRequest(name, args, kwargs, queue, parsed_countdown, eta, parsed_priority)


def _number(value: Any, field_name: str) -> float:
    if isinstance(value, bool):
        raise ActionError(f"{field_name}: expected a number of seconds")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ActionError(f"{field_name}: expected a number of seconds") from None
    if not math.isfinite(number):
        raise ActionError(f"{field_name}: expected a finite number of seconds")
    return number


def _eta(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ActionError("eta: expected an ISO 8601 time such as 2026-01-31T12:00:00Z")
    try:
        eta = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ActionError(f"eta: cannot parse {value[:40]!r} as an ISO 8601 time") from None
    return eta.replace(tzinfo=UTC) if eta.tzinfo is None else eta.astimezone(UTC)


def depth_of(value: Any, stop_after: int) -> int:
    """How deeply lists and dicts nest in `value` (a scalar is 0), counted without recursion.

    Counting stops once past `stop_after`: the answer is then only "too deep".
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > stop_after:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_depth(value: Any, field_name: str, limit: int) -> None:
    """ActionError naming the limit when `value` nests deeper than `limit` levels.

    A worker pickling (or a console encoding) a deeply nested value dies of RecursionError and
    the message goes back to the queue to kill the next worker: such values stop here.
    """
    if depth_of(value, limit) > limit:
        raise ActionError(
            f"{field_name}: nested more than {limit} levels deep; the limit is {limit} "
            "(max_arg_depth)"
        )


def json_text_depth(text: str, stop_after: int) -> int:
    """How deeply brackets nest in JSON text, before parsing it (json.loads itself recurses)."""
    if text.count("[") + text.count("{") <= stop_after:
        return 0  # cannot be deeper; the common case costs two counts
    level = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub('""', text)):
        level += 1 if match.group() in "[{" else -1
        if level > deepest:
            deepest = level
            if deepest > stop_after:
                break
    return deepest


def load_json(text: str | bytes, field_name: str, max_depth: int, envelope: int = 0) -> Any:
    """json.loads that refuses text nested past `max_depth` (+ `envelope` levels around args
    and kwargs, such as the request object) by name, before the parser recurses."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    limit = max_depth + envelope
    if json_text_depth(text, limit) > limit:
        raise ActionError(
            f"{field_name}: nested more than {limit} levels deep; args and kwargs may nest at "
            f"most {max_depth} levels (max_arg_depth)"
        )
    return json.loads(text)


def decode_json_field(
    text: str, field_name: str, default: Any, max_depth: int | None = None
) -> Any:
    """For form fields holding JSON: empty means `default`; bad JSON names the field."""
    if not text or not text.strip():
        return default
    try:
        if max_depth is not None:
            return load_json(text, field_name, max_depth)
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ActionError(
            f"{field_name}: not valid JSON ({exc.msg} at position {exc.pos})"
        ) from None


__all__ = [
    "QUEUE_NAME",
    "TriggerRequest",
    "check_depth",
    "decode_json_field",
    "load_json",
    "parse_trigger",
]
