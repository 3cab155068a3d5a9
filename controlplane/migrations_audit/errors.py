"""The audit's own errors: each one is bad input that the CLI reports with exit code 2.

They are a branch of the package's one exception tree (``controlplane.errors``), so a caller
such as the console can catch every error controlplane raises on purpose in one place.
"""

from __future__ import annotations

from controlplane.errors import ControlplaneError


class AuditError(ControlplaneError):
    """Base of every error the audit raises on purpose."""


class ConfigError(AuditError):
    """The audit settings cannot be used; the message names the file and the setting."""


class BaselineError(AuditError):
    """The baseline report is missing or not an audit JSON report."""


class SourceError(AuditError):
    """The path to audit does not exist or is not a directory or Python file."""
