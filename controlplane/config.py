"""Settings: every knob, read once from the environment (CONTROLPLANE_*) and an optional TOML file.

A bad value stops start-up with one line that names the setting, so an operator never has to
guess which of thirty variables was wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from controlplane.alerting.config import AlertsConfig, parse_alerts
from controlplane.errors import SettingsError

ENV_PREFIX = "CONTROLPLANE_"
CONFIG_FILE_ENV = "CONTROLPLANE_CONFIG"

BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Secrets printed in our own examples (deploy/compose.yaml, controlplane.env.example) and the
# usual placeholders: anyone can sign a session cookie with them.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"change-me-in-production", "change-me-to-a-long-random-string", "changeme", "change-me",
     "secret", "secret-key", "dev", "development", "controlplane", "please-change-me"}
)  # fmt: skip
# Keys whose values never reach the database, the log or a page: matched against kwargs keys.
DEFAULT_REDACT_PATTERN = (
    r"(?i)(pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|auth|credential|private[-_]?key"
    r"|session|cookie|signature|access[-_]?key|dsn|jwt|bearer)"
)


@dataclass(frozen=True)
class QueueScaling:
    """One queue's overrides of the autoscale_* settings; None keeps the global value."""

    queue: str
    min_workers: int | None = None
    max_workers: int | None = None
    concurrency: int | None = None
    drain_seconds: float | None = None
    target_wait_seconds: float | None = None


@dataclass(frozen=True)
class TransportOptions:
    """The fleet's Redis transport options that decide where kombu keeps messages.

    kombu keeps priority `p` of queue `q` in the list `q + sep + str(p)` (p = 0: `q` itself),
    for each of `priority_steps`, and prefixes every key with `global_keyprefix`. Readers that
    assume the defaults count the wrong lists (Flower #928, celery-exporter #272).
    """

    priority_steps: tuple[int, ...] | None = None  # None: the fleet's are unknown, count 0..9
    sep: str = "\x06\x16"
    global_keyprefix: str = ""

    def for_celery(self) -> dict[str, Any]:
        """The same options for the console's own Celery app (it must find the same keys)."""
        options: dict[str, Any] = {}
        if self.priority_steps is not None:
            options["priority_steps"] = list(self.priority_steps)
        if self.sep != "\x06\x16":
            options["sep"] = self.sep
        if self.global_keyprefix:
            options["global_keyprefix"] = self.global_keyprefix
        return options


@dataclass(frozen=True)
class AuditProject:
    """A codebase the console may audit: a name for pages and metrics, and its source root."""

    name: str
    root: str  # absolute, without `..`; symlinks are resolved when a run starts


@dataclass(frozen=True)
class Settings:
    """Everything controlplane can be told. Defaults serve a laptop."""

    broker_url: str | None = None  # None: `up` starts a private redis-server
    result_backend: str | None = None  # None: the same Redis as the broker
    database_url: str = "sqlite:///controlplane.db"
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key: str | None = None  # None: a random key per process (sessions end at restart)
    queues: tuple[str, ...] = ("default", "reports", "slow")
    # The fleet's broker_transport_options that move messages (priority_steps, sep,
    # global_keyprefix): the depth is read where the fleet's kombu writes.
    broker_transport_options: TransportOptions = TransportOptions()
    sample_interval: float = 5.0  # seconds between queue-depth samples
    inspect_interval: float = 30.0  # seconds between worker inspections
    inspect_timeout: float = 1.0  # seconds a broadcast inspect() waits for replies
    retention_days: float = 14.0  # task history and samples older than this are deleted
    stuck_task_seconds: float = 1800.0  # a task STARTED longer than this is shown as stuck
    leader_lock_ttl: float = 15.0  # seconds the scheduler's leader lock lives unless renewed
    lock_url: str | None = None  # Redis for the leader lock; None: the broker or result Redis
    redact_pattern: str = DEFAULT_REDACT_PATTERN
    max_arg_chars: int = 4096  # args/kwargs/result reprs are cut to this many characters
    max_traceback_chars: int = 16384
    cookie_secure: bool | None = None  # None: secure unless bound to loopback
    login_max_failures: int = 5  # failed logins (per user or address) before slowing down
    login_window_seconds: float = 300.0
    # past login_max_failures, each failure doubles the wait from this, up to the window
    login_delay_seconds: float = 1.0
    # reverse proxies in front of the console that set X-Forwarded-For (0: none); the login
    # throttle counts per client address, which behind a proxy is only in that header
    proxy_hops: int = 0
    metrics_token: str | None = None  # when set, /metrics wants `Authorization: Bearer ...`
    metrics_collapse_hostnames: bool = False  # every hostname label becomes "generic"
    metrics_offline_worker_seconds: float = 600.0  # then an offline worker's series go
    metrics_flower_names: bool = False  # also export Flower's metric names (metrics/flower.py)
    task_allowlist: tuple[str, ...] = ()  # extra task names operators may trigger
    bulk_max: int = 1000  # a bulk action acts on at most this many tasks
    max_payload_bytes: int = 262144  # args + kwargs of a triggered task, as JSON
    # Operator safety (issue 15): args/kwargs nest at most this deep (a worker pickling deeper
    # values dies of RecursionError, and so does the next one the message goes back to).
    max_arg_depth: int = 32
    # Where a trigger or retry goes without a typed queue: "glob=queue" entries like Celery's
    # task_routes, and the fleet app's task_default_queue. Unset: what the workers report.
    task_routes: tuple[str, ...] = ()
    task_default_queue: str | None = None
    visibility_timeout: float = 3600.0  # the Redis transport's; a longer ETA is delivered twice
    eta_tolerance_seconds: float = 60.0  # an ETA this far in the past is still accepted
    revocation_ttl_hours: float = 48.0  # revocations are re-sent to restarted workers this long
    log_level: str = "INFO"
    # RabbitMQ: the queue the ingesters of this install share; None: named after the database
    event_queue: str | None = None
    event_buffer_mb: int = 16  # events received, not yet written, kept in memory
    gap_alert_hours: float = 6.0  # an ingest gap stays on the alert strip this long
    lost_worker_alert_hours: float = 6.0  # a worker lost without a goodbye alerts this long
    # Alert conditions (fleet/alerts.py): thresholds, the same as deploy/prometheus/alerts.yml.
    alert_backlog_samples: int = 6  # a backlog that grew over this many samples in a row...
    alert_backlog_min: int = 10  # ...and holds at least this many tasks
    alert_failure_ratio: float = 0.1  # share of finished tasks that failed...
    alert_failure_min: int = 5  # ...with at least this many failures...
    alert_failure_window_seconds: float = 300.0  # ...within this window
    event_spool_mb: int = 2048  # ...and beyond that on disk (temp dir); past both, a gap
    # Recommended workers per queue (autoscale.py): targets, bounds and the scale-down window.
    autoscale_drain_seconds: float = 30.0  # a backlog should be gone within this
    autoscale_target_wait_seconds: float = 30.0  # p95 of the wait before a task starts
    autoscale_target_utilisation: float = 0.9  # busy share of the slots at steady load
    autoscale_min_workers: int = 1  # 0 lets KEDA scale a queue's workers to zero
    autoscale_max_workers: int = 50
    autoscale_concurrency: int = 4  # slots per worker when the fleet reports none
    autoscale_startup_seconds: float = 30.0  # from asking for a worker to its first task
    autoscale_default_service_seconds: float = 10.0  # assumed per task until one finished
    autoscale_scale_down_window_seconds: float = 90.0  # plus the HPA's own 60 s (deploy/k8s)
    autoscale_queues: tuple[QueueScaling, ...] = ()  # per-queue overrides
    # A queue whose tasks take this long on average is "long": a worker prefetching more
    # messages than it has processes for it is flagged (autoscale/prefetch.py).
    autoscale_long_task_seconds: float = 60.0
    # Migration audit (audits/): the projects admins and the nightly job may audit.
    audit_projects: tuple[AuditProject, ...] = ()
    audit_schedule: str | None = "03:00"  # "HH:MM" UTC of the nightly run; None: no nightly run
    audit_cache_dir: str | None = None  # the analyser's facts cache; None: its default directory
    # Faults (issue 16): how processes wait for what they need, and how long a request waits.
    startup_backoff_max: float = 10.0  # seconds, at most, between start-up attempts (db, broker)
    broker_restart_alert_hours: float = 6.0  # a broker restart stays an alert this long
    broker_deadline: float = 3.0  # seconds a request waits for a publish; then 503, revoked
    # Alert rules, channels and delivery (alerting/): the [controlplane.alerts] table.
    alerts: AlertsConfig = AlertsConfig()
    # Failure groups and schedules (#18 parts 2-3, failures/ and periodic/).
    failure_group_new_hours: float = 24.0  # a group first seen this recently is "new"
    # The fleet's Celery app ("module:attr") whose beat_schedule is read; importing it runs
    # its code, so it is opt-in.
    celery_app: str | None = None
    schedule_grace_ratio: float = 0.1  # a run not started within this share of the interval...
    schedule_grace_min_seconds: float = 60.0  # ...(at least this long) after its due time: missed
    schedule_infer_min_runs: int = 4  # sends at a regular interval before a schedule is inferred
    redbeat_url: str | None = None  # RedBeat's Redis: its schedule entries are read (read-only)
    redbeat_key_prefix: str = "redbeat:"
    # the fleet's database holding django-celery-beat's tables (a read-only role is enough)
    django_beat_url: str | None = None
    # let admins enable/disable its entries through that URL (then it needs a writing role)
    django_beat_writable: bool = False

    def __post_init__(self) -> None:
        if self.autoscale_min_workers > self.autoscale_max_workers:
            raise SettingsError(
                f"autoscale_min_workers ({self.autoscale_min_workers}) is above "
                f"autoscale_max_workers ({self.autoscale_max_workers})"
            )
        for item in self.autoscale_queues:
            low = self.autoscale_min_workers if item.min_workers is None else item.min_workers
            high = self.autoscale_max_workers if item.max_workers is None else item.max_workers
            if low > high:
                raise SettingsError(
                    f"autoscale_queues.{item.queue}: min_workers {low} is above max_workers {high}"
                )

    def audit_project(self, name: str) -> AuditProject | None:
        """The configured audit project called `name`, if any."""
        for project in self.audit_projects:
            if project.name == name:
                return project
        return None

    def autoscale_override(self, queue: str) -> QueueScaling | None:
        """The per-queue autoscale overrides for `queue`, if any were set."""
        for item in self.autoscale_queues:
            if item.queue == queue:
                return item
        return None

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("secret_key", "metrics_token") and value:
                value = "***"
            elif isinstance(value, str) and "://" in value:
                value = redact_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_broker(self, broker_url: str) -> Settings:
        """A copy that uses `broker_url` (and the same Redis for results when none was set)."""
        return dataclasses.replace(self, broker_url=broker_url)

    @property
    def effective_result_backend(self) -> str | None:
        if self.result_backend:
            return self.result_backend
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def effective_lock_url(self) -> str | None:
        """The Redis that holds the scheduler's leader lock: set, or the broker's, or results'."""
        for url in (self.lock_url, self.broker_url, self.result_backend):
            if url and url.startswith(("redis://", "rediss://")):
                return url
        return None

    @property
    def effective_cookie_secure(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.host not in LOOPBACK

    @property
    def install_name(self) -> str:
        """A short name for this install: its database (one console, one database), readable
        and unique: `controlplane-3fa2b1c4` for ./controlplane.db, `ops-9c01d2e3` for .../ops."""
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        database = url.database or "memory"
        if url.get_backend_name() == "sqlite" and database != ":memory:":
            database = str(Path(database).resolve())
        identity = f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{database}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(database).stem)[:40].strip("-") or "db"
        return f"{stem}-{digest}"

    @property
    def effective_event_queue(self) -> str:
        """The RabbitMQ queue this install's ingesters share: two installs on one vhost must
        not split the events between them."""
        return self.event_queue or f"celeryev.controlplane.{self.install_name}"

    def public_secret_problem(self) -> str | None:
        """Why `serve` must not start with this secret on this address, or None."""
        secret = (self.secret_key or "").strip().lower()
        if self.host in LOOPBACK or not secret:
            return None  # no secret: a random one per process
        if secret in KNOWN_DEFAULT_SECRETS or secret.startswith(("change-me", "changeme")):
            return (
                f"CONTROLPLANE_SECRET_KEY: {self.secret_key!r} is a published default and "
                f"{self.host} is not loopback: anyone could sign a session; set a long random "
                'value (python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return None


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


# ---- parsers: each takes the raw value (str from env, or a TOML value) and the setting name.


def _as_str(raw: Any, name: str) -> str:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise SettingsError(f"{name}: expected a string, got {raw!r}")
    return str(raw)


def _optional(parser: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def parse(raw: Any, name: str) -> Any:
        if raw is None or raw == "":
            return None
        return parser(raw, name)

    return parse


def _as_int(minimum: int, maximum: int | None = None) -> Callable[[Any, str], int]:
    def parse(raw: Any, name: str) -> int:
        try:
            value = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum else f">= {minimum}"
            raise SettingsError(f"{name}: expected an integer {bound}, got {raw!r}")
        return value

    return parse


def _as_positive_float(raw: Any, name: str) -> float:
    try:
        value = float(str(raw).strip()) if not isinstance(raw, bool) else -1.0
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise SettingsError(f"{name}: expected a positive number of seconds/days, got {raw!r}")
    return value


def _as_fraction(raw: Any, name: str) -> float:
    try:
        value = float(str(raw).strip()) if not isinstance(raw, bool) else -1.0
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise SettingsError(f"{name}: expected a number above 0 and at most 1, got {raw!r}")
    return value


def _as_non_negative_float(raw: Any, name: str) -> float:
    try:
        value = float(str(raw).strip()) if not isinstance(raw, bool) else -1.0
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise SettingsError(f"{name}: expected a number of seconds >= 0, got {raw!r}")
    return value


def _as_bool(raw: Any, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _as_list(raw: Any, name: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else str(raw).split(",")
    values = tuple(str(item).strip() for item in items if str(item).strip())
    for value in values:
        if not re.fullmatch(r"[\w.:@\-]+", value):
            raise SettingsError(f"{name}: {value!r} is not a valid name")
    return values


def _as_list_item(raw: Any, name: str) -> str:
    """One name (a queue): letters, digits and . : @ - _."""
    [value] = _as_list([_as_str(raw, name)], name) or [""]
    if not value:
        raise SettingsError(f"{name}: expected a name, got {raw!r}")
    return value


def _as_task_routes(raw: Any, name: str) -> tuple[str, ...]:
    """Celery-style routes as "glob=queue" entries (a list, or comma-separated)."""
    items = raw if isinstance(raw, list) else str(raw).split(",")
    entries = tuple(str(item).strip() for item in items if str(item).strip())
    for entry in entries:
        if not re.fullmatch(r"[\w.:\-*?]+=[\w.:@\-]+", entry):
            raise SettingsError(f"{name}: expected 'task.name.or.glob*=queue', got {entry!r}")
    return entries


def _as_broker_url(raw: Any, name: str) -> str:
    url = _as_str(raw, name).strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise SettingsError(f"{name}: cannot parse {redact_url(url)!r} ({exc})") from None
    if parts.scheme not in BROKER_SCHEMES:
        raise SettingsError(
            f"{name}: expected a URL starting with one of {', '.join(BROKER_SCHEMES)}://, "
            f"got {redact_url(url)!r}"
        )
    if not parts.hostname:
        raise SettingsError(f"{name}: {redact_url(url)!r} has no host")
    return url


def _as_redis_url(raw: Any, name: str) -> str:
    url = _as_broker_url(raw, name)
    if not url.startswith(("redis://", "rediss://")):
        message = f"{name}: expected a redis:// or rediss:// URL, got {redact_url(url)!r}"
        raise SettingsError(message)
    return url


def _as_database_url(raw: Any, name: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = _as_str(raw, name).strip()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        message = f"{name}: cannot parse {redact_url(url)!r} as a database URL"
        raise SettingsError(message) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(f"{name}: only sqlite:// and postgresql:// are supported, got {url!r}")
    return url


def _as_regex(raw: Any, name: str) -> str:
    pattern = _as_str(raw, name)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise SettingsError(f"{name}: not a valid regular expression ({exc})") from None
    return pattern


def _as_log_level(raw: Any, name: str) -> str:
    level = _as_str(raw, name).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"{name}: expected DEBUG, INFO, WARNING or ERROR, got {raw!r}")
    return level


_QUEUE_SCALING_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "min_workers": _as_int(0),
    "max_workers": _as_int(1),
    "concurrency": _as_int(1),
    "drain_seconds": _as_positive_float,
    "target_wait_seconds": _as_positive_float,
}


def _as_table(raw: Any, name: str, what: str = "a table") -> dict[str, Any]:
    """A TOML table as it is, or a JSON object from the environment."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise SettingsError(f"{name}: expected a JSON object ({exc})") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{name}: expected {what}, got {raw!r}")
    return raw


def _as_queue_scaling(raw: Any, name: str) -> tuple[QueueScaling, ...]:
    """A table of queue -> overrides: a TOML table, or a JSON object in the environment."""
    raw = _as_table(raw, name, "a table of queue names")
    items = []
    for queue, overrides in raw.items():
        _as_list([queue], name)
        if not isinstance(overrides, dict):
            raise SettingsError(f"{name}.{queue}: expected a table, got {overrides!r}")
        values = {}
        for key, value in overrides.items():
            if key not in _QUEUE_SCALING_PARSERS:
                known = ", ".join(_QUEUE_SCALING_PARSERS)
                raise SettingsError(f"{name}.{queue}: unknown key {key!r} (known: {known})")
            values[key] = _QUEUE_SCALING_PARSERS[key](value, f"{name}.{queue}.{key}")
        items.append(QueueScaling(queue=queue, **values))
    return tuple(items)


def _as_transport_options(raw: Any, name: str) -> TransportOptions:
    """A TOML table, or a JSON object in the environment, of the options that move messages."""
    raw = _as_table(raw, name)
    known = {f.name for f in dataclasses.fields(TransportOptions)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(
            f"{name}: {', '.join(unknown)} not understood (known: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = {}
    steps = raw.get("priority_steps")
    if steps is not None:
        if (
            not isinstance(steps, list)
            or not steps
            or not all(
                isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 255 for n in steps
            )
        ):
            raise SettingsError(f"{name}.priority_steps: expected a list of integers 0-255")
        values["priority_steps"] = tuple(sorted(set(steps)))
    for key in ("sep", "global_keyprefix"):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 64 or "\n" in value:
            raise SettingsError(f"{name}.{key}: expected a short string without newlines")
        if key == "sep" and not value:
            raise SettingsError(f"{name}.sep: must not be empty")
        values[key] = value
    return TransportOptions(**values)


PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _as_audit_projects(raw: Any, name: str) -> tuple[AuditProject, ...]:
    """name = path pairs: a TOML table, or `name=path,name=path` in the environment."""
    if isinstance(raw, str):
        pairs = []
        for item in raw.split(","):
            if not item.strip():
                continue
            key, sep, value = item.partition("=")
            if not sep:
                raise SettingsError(f"{name}: expected name=path, got {item.strip()!r}")
            pairs.append((key.strip(), value.strip()))
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise SettingsError(f"{name}: expected a table of name = path, got {raw!r}")
    projects: dict[str, AuditProject] = {}
    for key, value in pairs:
        if not PROJECT_NAME.fullmatch(str(key)):
            raise SettingsError(
                f"{name}: project name {key!r} must be letters, digits, - or _ (at most 64)"
            )
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{name}.{key}: expected a path, got {value!r}")
        path = Path(value.strip())
        if not path.is_absolute():
            raise SettingsError(f"{name}.{key}: expected an absolute path, got {value!r}")
        if ".." in path.parts:
            raise SettingsError(f"{name}.{key}: a path with '..' is refused, got {value!r}")
        if key in projects:
            raise SettingsError(f"{name}: project {key!r} is given twice")
        projects[key] = AuditProject(key, str(path))
    return tuple(projects.values())


def _as_time_of_day(raw: Any, name: str) -> str | None:
    """`HH:MM` (UTC), normalised; `off`, `none` or empty turn the job off."""
    text = _as_str(raw, name).strip().lower()
    if text in ("", "off", "none", "never"):
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise SettingsError(f"{name}: expected HH:MM (UTC) or off, got {raw!r}")
    return f"{int(match[1]):02d}:{match[2]}"


PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "broker_url": _optional(_as_broker_url),
    "result_backend": _optional(_as_str),
    "database_url": _as_database_url,
    "host": _as_str,
    "port": _as_int(1, 65535),
    "secret_key": _optional(_as_str),
    "queues": _as_list,
    "broker_transport_options": _as_transport_options,
    "sample_interval": _as_positive_float,
    "inspect_interval": _as_positive_float,
    "inspect_timeout": _as_positive_float,
    "retention_days": _as_positive_float,
    "stuck_task_seconds": _as_positive_float,
    "leader_lock_ttl": _as_positive_float,
    "lock_url": _optional(_as_redis_url),
    "redact_pattern": _as_regex,
    "max_arg_chars": _as_int(64),
    "max_traceback_chars": _as_int(256),
    "cookie_secure": _optional(_as_bool),
    "login_max_failures": _as_int(1),
    "login_window_seconds": _as_positive_float,
    "login_delay_seconds": _as_positive_float,
    "proxy_hops": _as_int(0, 5),
    "metrics_token": _optional(_as_str),
    "metrics_collapse_hostnames": _as_bool,
    "metrics_offline_worker_seconds": _as_positive_float,
    "metrics_flower_names": _as_bool,
    "task_allowlist": _as_list,
    "bulk_max": _as_int(1),
    "gap_alert_hours": _as_positive_float,
    "lost_worker_alert_hours": _as_positive_float,
    "alert_backlog_samples": _as_int(2, 1000),
    "alert_backlog_min": _as_int(1),
    "alert_failure_ratio": _as_fraction,
    "alert_failure_min": _as_int(1),
    "alert_failure_window_seconds": _as_positive_float,
    "max_payload_bytes": _as_int(1024),
    "max_arg_depth": _as_int(1, 200),
    "task_routes": _as_task_routes,
    "task_default_queue": _optional(_as_list_item),
    "visibility_timeout": _as_positive_float,
    "eta_tolerance_seconds": _as_positive_float,
    "revocation_ttl_hours": _as_positive_float,
    "log_level": _as_log_level,
    "event_queue": _optional(_as_list_item),
    "event_buffer_mb": _as_int(1, 65536),
    "event_spool_mb": _as_int(0, 1 << 20),
    "autoscale_drain_seconds": _as_positive_float,
    "autoscale_target_wait_seconds": _as_positive_float,
    "autoscale_target_utilisation": _as_fraction,
    "autoscale_min_workers": _as_int(0),
    "autoscale_max_workers": _as_int(1),
    "autoscale_concurrency": _as_int(1),
    "autoscale_startup_seconds": _as_non_negative_float,
    "autoscale_default_service_seconds": _as_positive_float,
    "autoscale_scale_down_window_seconds": _as_non_negative_float,
    "autoscale_queues": _as_queue_scaling,
    "autoscale_long_task_seconds": _as_positive_float,
    "audit_projects": _as_audit_projects,
    "audit_schedule": _as_time_of_day,
    "audit_cache_dir": _optional(_as_str),
    # Faults (issue 16)
    "startup_backoff_max": _as_positive_float,
    "broker_restart_alert_hours": _as_positive_float,
    "broker_deadline": _as_positive_float,
    "alerts": parse_alerts,
    "failure_group_new_hours": _as_positive_float,
    "celery_app": _optional(_as_str),
    "schedule_grace_ratio": _as_fraction,
    "schedule_grace_min_seconds": _as_non_negative_float,
    "schedule_infer_min_runs": _as_int(3, 1000),
    "redbeat_url": _optional(_as_redis_url),
    "redbeat_key_prefix": _as_str,
    "django_beat_url": _optional(_as_str),
    "django_beat_writable": _as_bool,
}
# Settings whose TOML value is a table ([controlplane.autoscale_queues.NAME]).
TABLE_SETTINGS = frozenset(
    {"autoscale_queues", "audit_projects", "broker_transport_options", "alerts"}
)
assert set(PARSERS) == {f.name for f in dataclasses.fields(Settings)}


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from defaults, then the TOML file, then the environment, then overrides."""
    environ = os.environ if environ is None else environ
    raw: dict[str, tuple[str, Any]] = {}  # name -> (where it came from, raw value)

    path = config_file or environ.get(CONFIG_FILE_ENV)
    if path:
        for key, value in _read_toml(Path(path)).items():
            if key not in PARSERS:
                raise SettingsError(f"{path}: unknown setting {key!r}")
            raw[key] = (f"{key} (in {path})", value)
    for key in PARSERS:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            raw[key] = (env_name, environ[env_name])
    for key, value in overrides.items():
        if value is not None:
            raw[key] = (key, value)

    values = {key: PARSERS[key](value, label) for key, (label, value) in raw.items()}
    return Settings(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{CONFIG_FILE_ENV}: no such file {str(path)!r}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{CONFIG_FILE_ENV}: {path} is not valid TOML ({exc})") from None
    section = data.get("controlplane", data)
    if not isinstance(section, dict):
        raise SettingsError(f"{CONFIG_FILE_ENV}: [controlplane] in {path} must be a table")
    return {k: v for k, v in section.items() if not isinstance(v, dict) or k in TABLE_SETTINGS}
