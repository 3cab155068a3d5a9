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


class IngestError(ControlplaneError):
    """The event ingester cannot run."""


class IngesterAlreadyRunning(IngestError):
    """Another ingester holds the SQLite database."""
