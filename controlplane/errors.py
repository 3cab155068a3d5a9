"""One exception tree for the package: callers see our words, not a KeyError."""

from __future__ import annotations


class ControlplaneError(Exception):
    """Base of every error controlplane raises on purpose."""


class SettingsError(ControlplaneError):
    """A setting has a value we cannot use; the message names the setting."""


class EmbeddedRedisError(ControlplaneError):
    """The private redis-server could not be started."""


class BrokerUnavailable(ControlplaneError):
    """The broker did not answer."""


class DatabaseUnavailable(ControlplaneError):
    """The database did not answer (down, locked, or out of space)."""


class ActionError(ControlplaneError):
    """An operator action was refused or failed; `status` is the HTTP answer to give."""

    status = 400


class NotFound(ActionError):
    status = 404


class Conflict(ActionError):
    status = 409


class PayloadTooLarge(ActionError):
    status = 413


class ActionFailed(ActionError):
    """The broker or a worker did not do what we asked (down, no reply)."""

    status = 503


class AuditRefused(ActionError):
    """An audit run that may not start (unknown project, one already running) or diff."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class AutoscaleError(ControlplaneError, ValueError):
    """Autoscale targets or inputs that make no sense (concurrency 0, min above max)."""


class IngestError(ControlplaneError):
    """The event ingester cannot run."""


class IngesterAlreadyRunning(IngestError):
    """Another ingester holds the SQLite database."""
